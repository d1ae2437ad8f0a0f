using System.Buffers.Binary;
using Flash.Ffs.Format;
using Flash.Svm.Network.Bus;
using Flash.Svm.Node;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Tests.Bus;

/// <summary>The module control datagrams' bytes, recorded before the codec moved onto the shared writer (issue 18).</summary>
public sealed class ModuleControlMessageCodecTests
{
    private const string InitHex = "464D43500101D4C3B2A1077472616666696303000000020001000403020008626F6F742E62696E204E0000000000000000000000000000000000000000000000000000000000000000000000000000076170702E62696E0200000001000000000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F035C101F";
    private const string HealthHex = "464D43500102090000000578632DC3A9FFFFFFFF020100000000002F6B31E5";

    private static readonly ModuleControlMessage Init = new(ModuleControlKind.Init, 0xA1B2C3D4, new ModuleAddress("traffic", 3), new SoftwareVersion(2, 1, 0x0304),
        Components: [new InitComponent("boot.bin", 20_000, new byte[32]), new InitComponent("app.bin", 0x1_0000_0002, Enumerable.Range(0, 32).Select(i => (byte)i).ToArray())]);

    private static readonly ModuleControlMessage Health = new(ModuleControlKind.Health, 9, new ModuleAddress("xc-é", -1), new SoftwareVersion(1, 0, 0), ModuleHealth.Healthy);

    [Fact]
    public void Encodings_are_the_recorded_ones()
    {
        Assert.Equal(InitHex, Convert.ToHexString(Init.ToBytes()));
        Assert.Equal(HealthHex, Convert.ToHexString(Health.ToBytes()));
        Assert.True(ModuleControlMessage.TryParse(Convert.FromHexString(InitHex), out var init));
        Assert.Equal((Init.Kind, Init.Sequence, Init.Module, Init.Release), (init!.Kind, init.Sequence, init.Module, init.Release));
        Assert.Equal(Init.Components!.Select(c => (c.Name, c.Size, Convert.ToHexString(c.Sha256))), init.Components!.Select(c => (c.Name, c.Size, Convert.ToHexString(c.Sha256))));
        Assert.True(ModuleControlMessage.TryParse(Convert.FromHexString(HealthHex), out var health));
        Assert.Equal(Health, health);
    }

    [Fact]
    public void Every_truncation_and_flipped_bit_is_rejected()
    {
        foreach (var good in new[] { Init.ToBytes(), Health.ToBytes() })
        {
            for (int n = 0; n < good.Length; n++)
            {
                Assert.False(ModuleControlMessage.TryParse(good.AsSpan(0, n), out _));
            }

            for (int bit = 0; bit < good.Length * 8; bit++)
            {
                var bad = (byte[])good.Clone();
                bad[bit / 8] ^= (byte)(1 << (bit % 8));
                Assert.False(ModuleControlMessage.TryParse(bad, out _));
            }
        }
    }

    [Fact]
    public void Well_checksummed_but_malformed_bodies_are_rejected()
    {
        var health = Health.ToBytes();
        Assert.False(ModuleControlMessage.TryParse(Recrc([.. health[..^4], 0, 0, 0, 0, 0]), out _)); // trailing byte
        var badHealth = (byte[])health.Clone();
        badHealth[^11] = 200; // unknown health value
        Assert.False(ModuleControlMessage.TryParse(Recrc(badHealth), out _));
        var init = Init.ToBytes();
        Assert.False(ModuleControlMessage.TryParse(Recrc([.. init[..^8], 0, 0, 0, 0]), out _)); // last digest cut short
        var badKind = (byte[])init.Clone();
        badKind[5] = 77;
        Assert.False(ModuleControlMessage.TryParse(Recrc(badKind), out _));
        var longType = (byte[])init.Clone();
        longType[10] = 250; // module type length past the end
        Assert.False(ModuleControlMessage.TryParse(Recrc(longType), out _));
    }

    [Fact]
    public void Mutations_with_a_valid_crc_parse_or_are_refused_without_throwing()
    {
        var rng = new Random(18);
        foreach (var good in new[] { Init.ToBytes(), Health.ToBytes() })
        {
            for (int i = 0; i < 3000; i++)
            {
                var b = (byte[])good.Clone();
                for (int k = rng.Next(1, 4); k > 0; k--)
                {
                    b[rng.Next(b.Length - 4)] = (byte)rng.Next(256);
                }

                if (ModuleControlMessage.TryParse(Recrc(b), out var m))
                {
                    Assert.True(ModuleControlMessage.TryParse(m!.ToBytes(), out _));
                }
            }
        }
    }

    private static byte[] Recrc(byte[] b)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(b.Length - 4), Crc32C.Compute(b.AsSpan(0, b.Length - 4)));
        return b;
    }
}

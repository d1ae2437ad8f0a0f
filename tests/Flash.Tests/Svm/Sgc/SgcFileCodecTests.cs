using System.Security.Cryptography;
using Flash.Ffs.Format;
using Flash.Svm;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Sgc;

/// <summary>The SGC file's bytes, recorded before the codec moved onto the shared writer (issue 18).</summary>
public sealed class SgcFileCodecTests
{
    private const string EmptyHex = "53474346020000000100020003000300020001000000000000000000000037C8691F";
    private const string FullSha256 = "528E6A87EBC08BD3255B16E5127C6A1514007AFD1F378C0B712B6C8B59C5996D";
    private const int FullLength = 284;

    /// <summary>A format-version-1 file (no security counter): magic, version 1, reserved, release 1.2.3, no components, no mappings, CRC.</summary>
    private const string Version1Hex = "53474346010000000100020003000000000000000000BDAF8CA5";

    internal static SgcFile Full => new(new SoftwareVersion(3, 2, 1),
        [
            new SgcComponent("cpu.bin", new SoftwareVersion(1, 0, 7), 123_456, 0xCAFEBABE, SHA256.HashData("cpu"u8)),
            new SgcComponent("fpga-0.bit", new SoftwareVersion(2, 5, 0), 0x1_0000_0001, 0x01020304, SHA256.HashData("fpga"u8), ProgrammableDeviceKind.Fpga, "FPGA0"),
            new SgcComponent("cpld.jed", new SoftwareVersion(0, 0, 1), 0, 0, new byte[32], ProgrammableDeviceKind.Cpld, "CPLD-é"),
        ],
        [new SgcMapping("traffic", SgcMapping.AnySlot, "cpu.bin"), new SgcMapping("xconnect", 7, "fpga-0.bit")],
        securityCounter: 0x8877665544332211);

    [Fact]
    public void Encodings_are_the_recorded_ones()
    {
        var empty = new SgcFile(new SoftwareVersion(1, 2, 3), [], []);
        Assert.Equal(EmptyHex, Convert.ToHexString(empty.ToBytes()));
        var full = Full.ToBytes();
        Assert.Equal(FullLength, full.Length);
        Assert.Equal(FullSha256, Convert.ToHexString(SHA256.HashData(full)));
    }

    [Fact]
    public void Recorded_bytes_decode_to_the_same_file()
    {
        var parsed = SgcFile.Parse(Full.ToBytes());
        Assert.Equal(Full.Release, parsed.Release);
        Assert.Equal(Full.SecurityCounter, parsed.SecurityCounter);
        Assert.Equal(Full.Mappings, parsed.Mappings);
        Assert.Equal(Full.Components.Count, parsed.Components.Count);
        for (int i = 0; i < Full.Components.Count; i++)
        {
            Assert.True(Full.Components[i].SameContentAs(parsed.Components[i]));
            Assert.Equal(Full.Components[i].Version, parsed.Components[i].Version);
        }

        Assert.Equal(Full.ToBytes(), parsed.ToBytes());
    }

    [Fact]
    public void A_version_1_file_decodes_with_the_default_counter()
    {
        var v1 = SgcFile.Parse(Convert.FromHexString(Version1Hex));
        Assert.Equal(new SoftwareVersion(1, 2, 3), v1.Release);
        Assert.Equal(SgcFile.DefaultSecurityCounter(v1.Release), v1.SecurityCounter);
        Assert.Empty(v1.Components);
    }

    [Fact]
    public void Every_truncation_flipped_bit_and_bad_field_is_rejected()
    {
        var good = Full.ToBytes();
        for (int n = 0; n < good.Length; n++)
        {
            Assert.Throws<SvmFormatException>(() => SgcFile.Parse(good.AsSpan(0, n)));
        }

        for (int bit = 0; bit < good.Length * 8; bit += 3)
        {
            var bad = (byte[])good.Clone();
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<SvmFormatException>(() => SgcFile.Parse(bad));
        }

        // Well-formed CRCs over bad content: a trailing byte, a short body, an unknown version.
        Assert.Throws<SvmFormatException>(() => SgcFile.Parse(WithCrc([.. good[..^4], 0])));
        Assert.Throws<SvmFormatException>(() => SgcFile.Parse(WithCrc(good[..^8])));
        var v3 = good[..^4];
        v3[4] = 3;
        Assert.Contains("version 3", Assert.Throws<SvmFormatException>(() => SgcFile.Parse(WithCrc(v3))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mutations_with_a_valid_crc_parse_or_fail_only_with_the_format_error()
    {
        var rng = new Random(18);
        var body = Full.ToBytes()[..^4];
        for (int i = 0; i < 3000; i++)
        {
            var b = (byte[])body.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--)
            {
                b[rng.Next(b.Length)] = (byte)rng.Next(256);
            }

            var data = WithCrc(rng.Next(8) == 0 ? b[..rng.Next(b.Length)] : b);
            try
            {
                var parsed = SgcFile.Parse(data);
                Assert.Equal(parsed.ToBytes().Length, SgcFile.Parse(parsed.ToBytes()).ToBytes().Length);
            }
            catch (SvmFormatException)
            {
            }
        }
    }

    [Fact]
    public void A_component_size_beyond_a_long_is_a_format_error()
    {
        var one = new SgcFile(new SoftwareVersion(1, 0, 0), [new SgcComponent("a", default, 1, 0, new byte[32])], []).ToBytes()[..^4];

        // magic 4, version 2, reserved 2, release 6, counter 8, count 4, name 2+1, version 6: the size follows.
        one[35 + 7] = 0x80;
        Assert.Throws<SvmFormatException>(() => SgcFile.Parse(WithCrc(one)));
    }

    internal static byte[] WithCrc(byte[] body)
    {
        var b = new byte[body.Length + 4];
        body.CopyTo(b, 0);
        BitConverter.TryWriteBytes(b.AsSpan(body.Length), Crc32C.Compute(body));
        return b;
    }
}

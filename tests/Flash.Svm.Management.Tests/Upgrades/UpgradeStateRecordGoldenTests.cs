using Flash.Svm.Management.Upgrades;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Tests.Upgrades;

/// <summary>The upgrade state record's bytes, recorded before the codec moved onto the shared writer (issue 18).</summary>
public sealed class UpgradeStateRecordGoldenTests
{
    private const string InitialHex = "53564D55010000000000000000000000000000000000000000000000000000000000000000000000C3914796";
    private const string FullHex = "53564D550100020008070605040302010200010004030100000000007BE897B69A01000011006674703A72656C656173652D322E706B6717005465696C2DC3A92C203220636F6D706F6E656E74287329799B1F54";

    private static readonly UpgradeStatus Full = new(UpgradeState.Validated, UpgradeOutcome.None, 0x0102030405060708, new SoftwareVersion(2, 1, 0x0304), new SoftwareVersion(1, 0, 0),
        DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_123), "ftp:release-2.pkg", "Teil-é, 2 component(s)");

    [Fact]
    public void Encodings_are_the_recorded_ones()
    {
        Assert.Equal(InitialHex, Convert.ToHexString(UpgradeStateRecord.Encode(UpgradeStatus.Initial)));
        Assert.Equal(FullHex, Convert.ToHexString(UpgradeStateRecord.Encode(Full)));
        Assert.Equal(UpgradeStatus.Initial, UpgradeStateRecord.Decode(Convert.FromHexString(InitialHex)));
        Assert.Equal(Full, UpgradeStateRecord.Decode(Convert.FromHexString(FullHex)));
    }

    [Fact]
    public void A_cut_text_keeps_its_recorded_bytes()
    {
        var cut = Full with { Source = new string('é', 300), Message = new string('x', 300) };
        var b = UpgradeStateRecord.Encode(cut);
        Assert.Equal(UpgradeStateRecord.FixedSize + 2 + 512 + 2 + 256 + 4, b.Length);
        Assert.Equal("58404FF07493D02046EC9510F437BDF93D0697193E2BB87399C191EAA6BE19C3", Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(b)));
    }

    [Fact]
    public void Mutations_with_a_valid_crc_decode_or_fail_only_with_the_format_error()
    {
        var rng = new Random(18);
        var good = UpgradeStateRecord.Encode(Full);
        for (int i = 0; i < 3000; i++)
        {
            var b = (byte[])good.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--)
            {
                b[rng.Next(b.Length - 4)] = (byte)rng.Next(256);
            }

            try
            {
                var status = UpgradeStateRecord.Decode(Recrc(b));
                Assert.Equal(status, UpgradeStateRecord.Decode(UpgradeStateRecord.Encode(status)));
            }
            catch (SvmFormatException)
            {
            }
        }
    }

    [Fact]
    public void A_time_beyond_the_calendar_is_a_format_error()
    {
        var b = UpgradeStateRecord.Encode(Full);
        BitConverter.TryWriteBytes(b.AsSpan(28), long.MaxValue);
        Assert.Throws<SvmFormatException>(() => UpgradeStateRecord.Decode(Recrc(b)));
    }

    private static byte[] Recrc(byte[] b)
    {
        BitConverter.TryWriteBytes(b.AsSpan(b.Length - 4), Flash.Ffs.Format.Crc32C.Compute(b.AsSpan(0, b.Length - 4)));
        return b;
    }
}

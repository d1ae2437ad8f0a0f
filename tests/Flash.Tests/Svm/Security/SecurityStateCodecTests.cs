using Flash.Ffs.Format;
using Flash.Svm.Security;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Security;

/// <summary>The security state record's bytes, recorded before the codec moved onto the shared writer (issue 18).</summary>
public sealed class SecurityStateCodecTests
{
    private const string NoneHex = "535653430100000000000000000000000000000000000000000000002F230C77";
    private const string TrialHex = "5356534301000100030001000200000002000100040303000000000050555198";

    private static readonly SecurityState Trial = new(0x0000000200010003, TrialPending: true, new SoftwareVersion(2, 1, 0x0304), AttemptsLeft: 3);

    [Fact]
    public void Encodings_are_the_recorded_ones()
    {
        Assert.Equal(NoneHex, Convert.ToHexString(SecurityState.None.Encode()));
        Assert.Equal(TrialHex, Convert.ToHexString(Trial.Encode()));
        Assert.Equal(SecurityState.None, SecurityState.TryDecode(Convert.FromHexString(NoneHex)));
        Assert.Equal(Trial, SecurityState.TryDecode(Convert.FromHexString(TrialHex)));
    }

    [Fact]
    public void Every_truncation_flipped_bit_and_unknown_version_is_rejected()
    {
        var good = Trial.Encode();
        for (int n = 0; n < good.Length; n++)
        {
            Assert.Null(SecurityState.TryDecode(good.AsSpan(0, n)));
        }

        Assert.Null(SecurityState.TryDecode([.. good, 0]));
        for (int bit = 0; bit < good.Length * 8; bit++)
        {
            var bad = (byte[])good.Clone();
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Null(SecurityState.TryDecode(bad));
        }

        var v2 = Trial.Encode();
        v2[4] = 2;
        BitConverter.TryWriteBytes(v2.AsSpan(28), Crc32C.Compute(v2.AsSpan(0, 28)));
        Assert.Null(SecurityState.TryDecode(v2));
    }
}

using Flash.Svm.Management.Upgrades;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Tests.Upgrades;

public sealed class UpgradeStateRecordTests
{
    private static readonly UpgradeStatus Sample = new(UpgradeState.Validated, UpgradeOutcome.None, 42, new SoftwareVersion(2, 1, 3), new SoftwareVersion(1, 0, 0),
        DateTimeOffset.FromUnixTimeMilliseconds(1_764_000_000_123), "ftp:release-2.pkg", "Partial, 2 component(s) downloaded");

    [Fact]
    public void RoundTripsEveryField()
    {
        var bytes = UpgradeStateRecord.Encode(Sample);
        Assert.Equal(Sample, UpgradeStateRecord.Decode(bytes));
        Assert.Equal(UpgradeStateRecord.FixedSize + 2 + Sample.Source.Length + 2 + Sample.Message.Length + 4, bytes.Length);
    }

    [Fact]
    public void LayoutIsLittleEndianAsDocumented()
    {
        var b = UpgradeStateRecord.Encode(Sample);
        Assert.Equal("SVMU"u8.ToArray(), b[..4]);
        Assert.Equal(new byte[] { 1, 0 }, b[4..6]);
        Assert.Equal((byte)UpgradeState.Validated, b[6]);
        Assert.Equal(42, b[8]);
        Assert.Equal(new byte[] { 2, 0, 1, 0, 3, 0 }, b[16..22]);
        Assert.Equal(new byte[] { 1, 0, 0, 0, 0, 0 }, b[22..28]);
        Assert.Equal(1_764_000_000_123, BitConverter.ToInt64(b, 28));
        Assert.Equal(Sample.Source.Length, BitConverter.ToUInt16(b, 36));
    }

    [Fact]
    public void EveryFlippedBitAndEveryTruncationIsRejected()
    {
        var good = UpgradeStateRecord.Encode(Sample);
        for (int i = 0; i < good.Length * 8; i++)
        {
            var bad = (byte[])good.Clone();
            bad[i / 8] ^= (byte)(1 << (i % 8));
            Assert.Throws<SvmFormatException>(() => UpgradeStateRecord.Decode(bad));
        }

        for (int n = 0; n < good.Length; n++)
        {
            Assert.Throws<SvmFormatException>(() => UpgradeStateRecord.Decode(good.AsSpan(0, n)));
        }
    }

    [Fact]
    public void UnknownVersionAndStateAreRejected()
    {
        var b = UpgradeStateRecord.Encode(Sample);
        b[4] = 2;
        Assert.Contains("version 2", Assert.Throws<SvmFormatException>(() => UpgradeStateRecord.Decode(Recrc(b))).Message, StringComparison.Ordinal);
        b = UpgradeStateRecord.Encode(Sample);
        b[6] = 99;
        Assert.Throws<SvmFormatException>(() => UpgradeStateRecord.Decode(Recrc(b)));
    }

    [Fact]
    public void LongTextIsCutAtACharacterBoundary()
    {
        var s = Sample with { Source = new string('é', 400), Message = new string('x', 1000) };
        var d = UpgradeStateRecord.Decode(UpgradeStateRecord.Encode(s));
        Assert.Equal(new string('é', 256), d.Source);
        Assert.Equal(UpgradeStateRecord.MaxMessage, d.Message.Length);
    }

    private static byte[] Recrc(byte[] b)
    {
        int end = b.Length - 4;
        BitConverter.TryWriteBytes(b.AsSpan(end), System.IO.Hashing.Crc32.HashToUInt32(System.IO.Hashing.Crc32ParameterSet.Crc32C, b.AsSpan(0, end)));
        return b;
    }
}

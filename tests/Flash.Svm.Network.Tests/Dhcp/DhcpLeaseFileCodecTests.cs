using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Security.Cryptography;
using Flash.Ffs.Format;
using Flash.Svm.Network.Dhcp;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Tests.Dhcp;

/// <summary>The lease file's bytes, recorded before the codec moved onto the shared writer (issue 18).</summary>
public sealed class DhcpLeaseFileCodecTests
{
    private const string EmptyHex = "46444C530100000082A6E80B";
    private const string FullSha256 = "818F46A5481494AE21C11C40977D2005AAFE0A257CC232D88491B2C69DDC1296";
    private const int FullLength = 105;

    private static readonly DhcpLease[] Full =
    [
        new(IPAddress.Parse("10.0.0.3"), new ModuleAddress("traffic", 3), DhcpLeaseState.Bound, DateTimeOffset.FromUnixTimeSeconds(1_764_000_000), PhysicalAddress.Parse("02-00-00-00-00-03"), "01020000000003"),
        new(IPAddress.Parse("10.0.0.9"), new ModuleAddress("xc-é", -2), DhcpLeaseState.Declined, DateTimeOffset.FromUnixTimeSeconds(-5), null, null),
        new(IPAddress.Parse("192.168.1.254"), new ModuleAddress("x", int.MaxValue), DhcpLeaseState.Released, DateTimeOffset.FromUnixTimeSeconds(0), PhysicalAddress.Parse("AA-BB-CC-DD-EE-FF"), "FF"),
    ];

    [Fact]
    public void Encodings_are_the_recorded_ones()
    {
        Assert.Equal(EmptyHex, Convert.ToHexString(DhcpLeaseFile.Encode([])));
        var full = DhcpLeaseFile.Encode(Full);
        Assert.Equal(FullLength, full.Length);
        Assert.Equal(FullSha256, Convert.ToHexString(SHA256.HashData(full)));
        Assert.Equal(Full, DhcpLeaseFile.Decode(full));
    }

    [Fact]
    public void Every_truncation_flipped_bit_and_malformed_body_is_rejected()
    {
        var good = DhcpLeaseFile.Encode(Full);
        for (int n = 0; n < good.Length; n++)
        {
            Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Decode(good.AsSpan(0, n)));
        }

        for (int bit = 0; bit < good.Length * 8; bit++)
        {
            var bad = (byte[])good.Clone();
            bad[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Decode(bad));
        }

        Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Decode(Recrc([.. good[..^4], 0, 0, 0, 0, 0])));
        Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Decode(Recrc([.. good[..^5], 0, 0, 0, 0])));
        var more = (byte[])good.Clone();
        more[6] = 4; // one lease more than the body holds
        Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Decode(Recrc(more)));
        var v2 = (byte[])good.Clone();
        v2[4] = 2;
        Assert.Contains("version 2", Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Decode(Recrc(v2))).Message, StringComparison.Ordinal);
    }

    private static byte[] Recrc(byte[] b)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(b.Length - 4), Crc32C.Compute(b.AsSpan(0, b.Length - 4)));
        return b;
    }
}

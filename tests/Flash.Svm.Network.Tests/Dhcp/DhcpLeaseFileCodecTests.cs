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

    [Theory]
    [InlineData("fd00::3")]
    [InlineData("::ffff:10.0.0.3")]
    public void An_ipv6_lease_is_refused_and_the_stored_file_is_left_as_it_was(string address)
    {
        var path = Path.Combine(Path.GetTempPath(), $"flash-leases-{Guid.NewGuid():N}");
        try
        {
            DhcpLeaseFile.Save(path, Full);
            var before = File.ReadAllBytes(path);
            var v6 = Full[0] with { Address = IPAddress.Parse(address) };

            var e = Assert.Throws<ArgumentException>(() => DhcpLeaseFile.Save(path, [Full[1], v6]));
            Assert.Contains("not an IPv4 address", e.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => DhcpLeaseFile.Encode([v6]));
            Assert.Equal(before, File.ReadAllBytes(path));
            Assert.False(File.Exists(path + ".tmp"));
            Assert.Equal(Full, DhcpLeaseFile.Load(path));
        }
        finally
        {
            File.Delete(path);
        }
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

    [Fact]
    public void Mutations_with_a_valid_crc_decode_or_fail_only_with_the_format_error()
    {
        var rng = new Random(18);
        var good = DhcpLeaseFile.Encode(Full);
        for (int i = 0; i < 3000; i++)
        {
            var b = (byte[])good.Clone();
            for (int k = rng.Next(1, 4); k > 0; k--)
            {
                b[rng.Next(8, b.Length - 4)] = (byte)rng.Next(256);
            }

            try
            {
                var leases = DhcpLeaseFile.Decode(Recrc(b));
                Assert.Equal(leases, DhcpLeaseFile.Decode(DhcpLeaseFile.Encode(leases)));
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Fact]
    public void An_unknown_state_or_an_expiry_beyond_the_calendar_is_a_format_error()
    {
        var b = DhcpLeaseFile.Encode(Full[..1]);
        b[12] = 9; // state of the first lease
        Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Decode(Recrc(b)));
        b = DhcpLeaseFile.Encode(Full[..1]);
        BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(13), long.MinValue);
        Assert.Throws<InvalidDataException>(() => DhcpLeaseFile.Decode(Recrc(b)));
    }

    private static byte[] Recrc(byte[] b)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(b.Length - 4), Crc32C.Compute(b.AsSpan(0, b.Length - 4)));
        return b;
    }
}

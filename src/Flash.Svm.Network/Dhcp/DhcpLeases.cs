using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Dhcp;

/// <summary>What a stored lease says about its address.</summary>
public enum DhcpLeaseState : byte
{
    /// <summary>Acknowledged to the module; valid until it expires.</summary>
    Bound = 1,
    /// <summary>The module released it.</summary>
    Released = 2,
    /// <summary>The module declined it (address conflict): not offered again until the hold expires.</summary>
    Declined = 3,
}

/// <summary>One lease of the module network.</summary>
/// <param name="Address">The slot's address.</param>
/// <param name="Module">The module in the slot.</param>
/// <param name="State">State.</param>
/// <param name="Expires">When the lease (or the decline hold) ends.</param>
/// <param name="Mac">The client's MAC address as last seen.</param>
/// <param name="ClientId">The client identifier as last seen (hex), if any.</param>
public sealed record DhcpLease(IPAddress Address, ModuleAddress Module, DhcpLeaseState State, DateTimeOffset Expires, PhysicalAddress? Mac, string? ClientId);

/// <summary>
/// The lease file: leases kept across restarts of the server. Format version 1, little-endian: magic <c>FDLS</c>,
/// u16 version, u16 count, per lease (IPv4 4 bytes, u8 state, i64 expiry in Unix seconds, u8 length + UTF-8 module
/// type, i32 slot, u8 length + MAC, u8 length + client id), then CRC-32C of everything before it. Written to a
/// temporary file, flushed and renamed over the old one, so a power cut leaves the old or the new file.
/// </summary>
public static class DhcpLeaseFile
{
    /// <summary>Format version written.</summary>
    public const ushort FormatVersion = 1;

    private const uint Magic = 0x534C4446; // "FDLS"

    /// <summary>Serialises leases.</summary>
    /// <param name="leases">Leases.</param>
    /// <returns>The file bytes.</returns>
    public static byte[] Encode(IReadOnlyCollection<DhcpLease> leases)
    {
        ArgumentNullException.ThrowIfNull(leases);
        var ms = new MemoryStream();
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(b, Magic);
        ms.Write(b[..4]);
        BinaryPrimitives.WriteUInt16LittleEndian(b, FormatVersion);
        ms.Write(b[..2]);
        BinaryPrimitives.WriteUInt16LittleEndian(b, checked((ushort)leases.Count));
        ms.Write(b[..2]);
        foreach (var l in leases)
        {
            ms.Write(l.Address.GetAddressBytes());
            ms.WriteByte((byte)l.State);
            BinaryPrimitives.WriteInt64LittleEndian(b, l.Expires.ToUnixTimeSeconds());
            ms.Write(b);
            Short(ms, Encoding.UTF8.GetBytes(l.Module.ModuleType));
            BinaryPrimitives.WriteInt32LittleEndian(b, l.Module.Slot);
            ms.Write(b[..4]);
            Short(ms, l.Mac?.GetAddressBytes() ?? []);
            Short(ms, l.ClientId is null ? [] : Convert.FromHexString(l.ClientId));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(b, Crc32C(ms.GetBuffer().AsSpan(0, (int)ms.Length)));
        ms.Write(b[..4]);
        return ms.ToArray();
    }

    /// <summary>Parses a lease file.</summary>
    /// <param name="data">File bytes.</param>
    /// <returns>The leases.</returns>
    /// <exception cref="InvalidDataException">Wrong magic, unknown version, bad CRC or truncated.</exception>
    public static List<DhcpLease> Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12 || BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic)
        {
            throw new InvalidDataException("Not a DHCP lease file.");
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(data[4..]) != FormatVersion)
        {
            throw new InvalidDataException($"Lease file version {BinaryPrimitives.ReadUInt16LittleEndian(data[4..])} is not supported.");
        }

        if (Crc32C(data[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]))
        {
            throw new InvalidDataException("Lease file CRC mismatch.");
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        var body = data[8..^4];
        var list = new List<DhcpLease>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var ip = new IPAddress(body[..4]);
                var state = (DhcpLeaseState)body[4];
                long expires = BinaryPrimitives.ReadInt64LittleEndian(body[5..]);
                body = body[13..];
                string type = Encoding.UTF8.GetString(Take(ref body));
                int slot = BinaryPrimitives.ReadInt32LittleEndian(body);
                body = body[4..];
                var mac = Take(ref body);
                var cid = Take(ref body);
                list.Add(new DhcpLease(ip, new ModuleAddress(type, slot), state, DateTimeOffset.FromUnixTimeSeconds(expires), mac.IsEmpty ? null : new PhysicalAddress(mac.ToArray()), cid.IsEmpty ? null : Convert.ToHexString(cid)));
            }
        }
        catch (ArgumentOutOfRangeException)
        {
            throw new InvalidDataException("Lease file truncated.");
        }

        return body.IsEmpty ? list : throw new InvalidDataException("Lease file has trailing bytes.");
    }

    /// <summary>Reads the file at a path; a missing file is an empty table.</summary>
    /// <param name="path">Path.</param>
    /// <returns>Leases.</returns>
    /// <exception cref="InvalidDataException">The file is damaged.</exception>
    public static List<DhcpLease> Load(string path) => File.Exists(path) ? Decode(File.ReadAllBytes(path)) : [];

    /// <summary>Writes the file atomically (temporary file, flush to disk, rename).</summary>
    /// <param name="path">Path.</param>
    /// <param name="leases">Leases.</param>
    public static void Save(string path, IReadOnlyCollection<DhcpLease> leases)
    {
        var bytes = Encode(leases);
        string tmp = path + ".tmp";
        using (var f = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            f.Write(bytes);
            f.Flush(flushToDisk: true);
        }

        File.Move(tmp, path, overwrite: true);
    }

    private static void Short(MemoryStream ms, byte[] value)
    {
        ms.WriteByte(checked((byte)value.Length));
        ms.Write(value);
    }

    private static ReadOnlySpan<byte> Take(ref ReadOnlySpan<byte> body)
    {
        int n = body[0];
        var v = body.Slice(1, n);
        body = body[(1 + n)..];
        return v;
    }

    private static uint Crc32C(ReadOnlySpan<byte> data) => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data);
}

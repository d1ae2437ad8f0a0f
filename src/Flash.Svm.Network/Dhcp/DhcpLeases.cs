using System.Buffers.Binary;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Flash.Ffs.Format;
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

    private static readonly long MinUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();

    private static readonly long MaxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    /// <summary>Serialises leases.</summary>
    /// <param name="leases">Leases.</param>
    /// <returns>The file bytes.</returns>
    /// <exception cref="ArgumentException">A lease's address is not IPv4 (the format holds 4 bytes; DHCPv4 leases only); nothing was encoded.</exception>
    public static byte[] Encode(IReadOnlyCollection<DhcpLease> leases)
    {
        ArgumentNullException.ThrowIfNull(leases);
        foreach (var l in leases)
        {
            // Checked before any byte is written, so a refused table never reaches Save's temporary file.
            if (l.Address.AddressFamily != AddressFamily.InterNetwork)
            {
                throw new ArgumentException($"The lease of {l.Module} is for {l.Address}, not an IPv4 address: the lease file holds DHCPv4 leases (4-byte addresses) only.", nameof(leases));
            }
        }

        var w = LittleEndianWriter.Growable(16 + (leases.Count * 40));
        try
        {
            w.U32(Magic);
            w.U16(FormatVersion);
            w.U16(checked((ushort)leases.Count));
            foreach (var l in leases)
            {
                w.Bytes(l.Address.GetAddressBytes());
                w.U8((byte)l.State);
                w.I64(l.Expires.ToUnixTimeSeconds());
                w.Length8(Encoding.UTF8.GetBytes(l.Module.ModuleType));
                w.I32(l.Module.Slot);
                w.Length8(l.Mac?.GetAddressBytes() ?? []);
                w.Length8(l.ClientId is null ? [] : Convert.FromHexString(l.ClientId));
            }

            w.AppendCrc32C();
            return w.Written.ToArray();
        }
        finally
        {
            w.Dispose();
        }
    }

    /// <summary>Parses a lease file.</summary>
    /// <param name="data">File bytes.</param>
    /// <returns>The leases.</returns>
    /// <exception cref="InvalidDataException">Wrong magic, unknown version, bad CRC or truncated.</exception>
    public static List<DhcpLease> Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 12)
        {
            throw new InvalidDataException("Not a DHCP lease file.");
        }

        var r = new LittleEndianReader(data[..^4], static () => new InvalidDataException("Lease file truncated."));
        if (r.U32() != Magic)
        {
            throw new InvalidDataException("Not a DHCP lease file.");
        }

        ushort version = r.U16();
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"Lease file version {version} is not supported.");
        }

        if (Crc32C.Compute(data[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(data[^4..]))
        {
            throw new InvalidDataException("Lease file CRC mismatch.");
        }

        int count = r.U16();
        var list = new List<DhcpLease>(count);
        for (int i = 0; i < count; i++)
        {
            var ip = new IPAddress(r.Bytes(4));
            var state = (DhcpLeaseState)r.U8();
            long expires = r.I64();
            if (!Enum.IsDefined(state) || expires < MinUnixSeconds || expires > MaxUnixSeconds)
            {
                throw new InvalidDataException($"Lease {i} has an unknown state {(byte)state} or an expiry of {expires} s.");
            }

            string type = Encoding.UTF8.GetString(r.Length8());
            int slot = r.I32();
            var mac = r.Length8();
            var cid = r.Length8();
            list.Add(new DhcpLease(ip, new ModuleAddress(type, slot), state, DateTimeOffset.FromUnixTimeSeconds(expires), mac.IsEmpty ? null : new PhysicalAddress(mac.ToArray()), cid.IsEmpty ? null : Convert.ToHexString(cid)));
        }

        return r.Remaining == 0 ? list : throw new InvalidDataException("Lease file has trailing bytes.");
    }

    /// <summary>Reads the file at a path; a missing file is an empty table.</summary>
    /// <param name="path">Path.</param>
    /// <returns>Leases.</returns>
    /// <exception cref="InvalidDataException">The file is damaged.</exception>
    public static List<DhcpLease> Load(string path) => File.Exists(path) ? Decode(File.ReadAllBytes(path)) : [];

    /// <summary>Writes the file atomically (temporary file, flush to disk, rename).</summary>
    /// <param name="path">Path.</param>
    /// <param name="leases">Leases.</param>
    /// <exception cref="ArgumentException">A lease's address is not IPv4; the file was not touched.</exception>
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
}

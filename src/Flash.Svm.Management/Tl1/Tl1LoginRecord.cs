using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Flash.Svm.Management.Tl1;

/// <summary>The failed-log-in state of one TL1 user.</summary>
/// <param name="User">The user identifier (upper-cased TL1 UID).</param>
/// <param name="Failures">Failed log-ins in a row since the last success or lock.</param>
/// <param name="LockedUntil">When the lockout ends (<see cref="DateTimeOffset.UnixEpoch"/> = not locked).</param>
/// <param name="LastFailure">When the last failure happened (which entry to forget first when the table is full).</param>
public readonly record struct Tl1LoginEntry(string User, int Failures, DateTimeOffset LockedUntil, DateTimeOffset LastFailure);

/// <summary>
/// The on-flash encoding of the TL1 log-in guard's table (docs/management.md, "TL1 log-in record"): magic <c>SVML</c>,
/// format version, entry count, then per entry the UID (length-prefixed ASCII), failure count, lockout end and last
/// failure (Unix milliseconds), and a CRC-32C of everything before it. Little-endian.
/// </summary>
public static class Tl1LoginRecord
{
    /// <summary>Magic number <c>SVML</c>.</summary>
    public const uint Magic = 0x4C4D5653;

    /// <summary>The format version this library writes.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Most entries a record holds (the guard forgets the oldest unlocked ones beyond this).</summary>
    public const int MaxEntries = 64;

    /// <summary>Longest UID (the TL1 parser's AID limit).</summary>
    public const int MaxUser = 64;

    private const int HeaderSize = 8;
    private const int EntryFixed = 1 + 2 + 8 + 8;

    /// <summary>Encodes a table.</summary>
    /// <param name="entries">At most <see cref="MaxEntries"/> entries with ASCII UIDs of 1–<see cref="MaxUser"/> characters.</param>
    /// <returns>The record.</returns>
    /// <exception cref="ArgumentException">Too many entries, or a UID that cannot be stored.</exception>
    public static byte[] Encode(IReadOnlyCollection<Tl1LoginEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count > MaxEntries)
        {
            throw new ArgumentException($"{entries.Count} entries exceed the limit of {MaxEntries}.", nameof(entries));
        }

        int size = HeaderSize + 4;
        foreach (var e in entries)
        {
            if (e.User is null || e.User.Length is 0 or > MaxUser || !Ascii.IsValid(e.User) || e.Failures is < 0 or > ushort.MaxValue)
            {
                throw new ArgumentException($"Entry '{e.User}' cannot be stored.", nameof(entries));
            }

            size += EntryFixed + e.User.Length;
        }

        var data = new byte[size];
        var s = data.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(s[6..], (ushort)entries.Count);
        int o = HeaderSize;
        foreach (var e in entries)
        {
            s[o] = (byte)e.User.Length;
            Encoding.ASCII.GetBytes(e.User, s[(o + 1)..]);
            o += 1 + e.User.Length;
            BinaryPrimitives.WriteUInt16LittleEndian(s[o..], (ushort)e.Failures);
            BinaryPrimitives.WriteInt64LittleEndian(s[(o + 2)..], e.LockedUntil.ToUnixTimeMilliseconds());
            BinaryPrimitives.WriteInt64LittleEndian(s[(o + 10)..], e.LastFailure.ToUnixTimeMilliseconds());
            o += 18;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(s[o..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, s[..o]));
        return data;
    }

    /// <summary>Decodes a record.</summary>
    /// <param name="data">The record.</param>
    /// <returns>The entries.</returns>
    /// <exception cref="SvmFormatException">The record is truncated, corrupt or of an unknown version.</exception>
    public static List<Tl1LoginEntry> Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < HeaderSize + 4)
        {
            throw new SvmFormatException($"TL1 log-in record of {data.Length} bytes is truncated.");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic)
        {
            throw new SvmFormatException("Not a TL1 log-in record (bad magic).");
        }

        int end = data.Length - 4;
        if (Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data[..end]) != BinaryPrimitives.ReadUInt32LittleEndian(data[end..]))
        {
            throw new SvmFormatException("TL1 log-in record: CRC mismatch.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        if (version != FormatVersion)
        {
            throw new SvmFormatException($"TL1 log-in record format version {version} is not supported.");
        }

        int count = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
        if (count > MaxEntries)
        {
            throw new SvmFormatException($"TL1 log-in record: {count} entries exceed the limit of {MaxEntries}.");
        }

        var entries = new List<Tl1LoginEntry>(count);
        int o = HeaderSize;
        for (int i = 0; i < count; i++)
        {
            int length = o < end ? data[o] : 0;
            if (length is 0 or > MaxUser || o + 1 + length + 18 > end || !Ascii.IsValid(data.Slice(o + 1, length)))
            {
                throw new SvmFormatException($"TL1 log-in record: entry {i} is malformed.");
            }

            string user = Encoding.ASCII.GetString(data.Slice(o + 1, length));
            o += 1 + length;
            entries.Add(new Tl1LoginEntry(user, BinaryPrimitives.ReadUInt16LittleEndian(data[o..]),
                DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(data[(o + 2)..])),
                DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(data[(o + 10)..]))));
            o += 18;
        }

        return o == end ? entries : throw new SvmFormatException("TL1 log-in record: bytes after the last entry.");
    }
}

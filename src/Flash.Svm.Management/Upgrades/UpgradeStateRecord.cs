using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Upgrades;

/// <summary>
/// The on-flash encoding of <see cref="UpgradeStatus"/> (docs/management.md, "Upgrade state record"): magic
/// <c>SVMU</c>, format version, state, outcome, sequence, target and previous release, time, source and message as
/// length-prefixed UTF-8, CRC-32C of everything before it. Little-endian.
/// </summary>
public static class UpgradeStateRecord
{
    /// <summary>Magic number <c>SVMU</c>.</summary>
    public const uint Magic = 0x554D5653;

    /// <summary>The format version this library writes.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Bytes before the variable-length fields.</summary>
    public const int FixedSize = 36;

    /// <summary>Longest source text stored (longer ones are cut).</summary>
    public const int MaxSource = 512;

    /// <summary>Longest message stored (longer ones are cut).</summary>
    public const int MaxMessage = 256;

    /// <summary>Encodes a status.</summary>
    /// <param name="status">The status.</param>
    /// <returns>The record.</returns>
    public static byte[] Encode(UpgradeStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var source = Utf8Prefix(status.Source, MaxSource);
        var message = Utf8Prefix(status.Message, MaxMessage);
        var data = new byte[FixedSize + 2 + source.Length + 2 + message.Length + 4];
        var s = data.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], FormatVersion);
        s[6] = (byte)status.State;
        s[7] = (byte)status.Outcome;
        BinaryPrimitives.WriteUInt64LittleEndian(s[8..], status.Sequence);
        WriteVersion(s[16..], status.Target);
        WriteVersion(s[22..], status.Previous);
        BinaryPrimitives.WriteInt64LittleEndian(s[28..], status.ChangedAt.ToUnixTimeMilliseconds());
        int o = FixedSize;
        BinaryPrimitives.WriteUInt16LittleEndian(s[o..], (ushort)source.Length);
        source.CopyTo(s[(o + 2)..]);
        o += 2 + source.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(s[o..], (ushort)message.Length);
        message.CopyTo(s[(o + 2)..]);
        o += 2 + message.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(s[o..], Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, s[..o]));
        return data;
    }

    /// <summary>Decodes a record.</summary>
    /// <param name="data">The record.</param>
    /// <returns>The status.</returns>
    /// <exception cref="SvmFormatException">The record is truncated, corrupt, of an unknown version or holds an unknown state.</exception>
    public static UpgradeStatus Decode(ReadOnlySpan<byte> data)
    {
        if (data.Length < FixedSize + 8)
        {
            throw new SvmFormatException($"Upgrade state record of {data.Length} bytes is truncated.");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic)
        {
            throw new SvmFormatException("Not an upgrade state record (bad magic).");
        }

        int o = FixedSize;
        int sourceLength = BinaryPrimitives.ReadUInt16LittleEndian(data[o..]);
        if (sourceLength > MaxSource || o + 2 + sourceLength + 2 + 4 > data.Length)
        {
            throw new SvmFormatException("Upgrade state record: bad source length.");
        }

        int messageAt = o + 2 + sourceLength;
        int messageLength = BinaryPrimitives.ReadUInt16LittleEndian(data[messageAt..]);
        int end = messageAt + 2 + messageLength;
        if (messageLength > MaxMessage || end + 4 != data.Length)
        {
            throw new SvmFormatException("Upgrade state record: bad message length.");
        }

        if (Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, data[..end]) != BinaryPrimitives.ReadUInt32LittleEndian(data[end..]))
        {
            throw new SvmFormatException("Upgrade state record: CRC mismatch.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        if (version != FormatVersion)
        {
            throw new SvmFormatException($"Upgrade state record format version {version} is not supported.");
        }

        var state = (UpgradeState)data[6];
        var outcome = (UpgradeOutcome)data[7];
        if (!Enum.IsDefined(state) || !Enum.IsDefined(outcome))
        {
            throw new SvmFormatException($"Upgrade state record: unknown state {data[6]} or outcome {data[7]}.");
        }

        return new UpgradeStatus(state, outcome, BinaryPrimitives.ReadUInt64LittleEndian(data[8..]), ReadVersion(data[16..]), ReadVersion(data[22..]),
            DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(data[28..])),
            Encoding.UTF8.GetString(data.Slice(o + 2, sourceLength)), Encoding.UTF8.GetString(data.Slice(messageAt + 2, messageLength)));
    }

    private static void WriteVersion(Span<byte> s, SoftwareVersion v)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(s, v.Major);
        BinaryPrimitives.WriteUInt16LittleEndian(s[2..], v.Minor);
        BinaryPrimitives.WriteUInt16LittleEndian(s[4..], v.Patch);
    }

    private static SoftwareVersion ReadVersion(ReadOnlySpan<byte> s)
        => new(BinaryPrimitives.ReadUInt16LittleEndian(s), BinaryPrimitives.ReadUInt16LittleEndian(s[2..]), BinaryPrimitives.ReadUInt16LittleEndian(s[4..]));

    /// <summary>UTF-8 of a text, cut at a character boundary to at most <paramref name="max"/> bytes.</summary>
    private static byte[] Utf8Prefix(string text, int max)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length <= max)
        {
            return bytes;
        }

        int n = max;
        while (n > 0 && (bytes[n] & 0xC0) == 0x80)
        {
            n--;
        }

        return bytes[..n];
    }
}

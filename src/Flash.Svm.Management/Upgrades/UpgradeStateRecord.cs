using System.Text;
using Flash.Ffs.Format;
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

    private static readonly long MinUnixMilliseconds = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();

    private static readonly long MaxUnixMilliseconds = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();

    /// <summary>Encodes a status.</summary>
    /// <param name="status">The status.</param>
    /// <returns>The record.</returns>
    public static byte[] Encode(UpgradeStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var source = Utf8Prefix(status.Source, MaxSource);
        var message = Utf8Prefix(status.Message, MaxMessage);
        var data = new byte[FixedSize + 2 + source.Length + 2 + message.Length + 4];
        var w = new LittleEndianWriter(data);
        w.U32(Magic);
        w.U16(FormatVersion);
        w.U8((byte)status.State);
        w.U8((byte)status.Outcome);
        w.U64(status.Sequence);
        w.Version(status.Target);
        w.Version(status.Previous);
        w.I64(status.ChangedAt.ToUnixTimeMilliseconds());
        w.U16((ushort)source.Length);
        w.Bytes(source);
        w.U16((ushort)message.Length);
        w.Bytes(message);
        w.AppendCrc32C();
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

        // Every length is checked against what is left before it is used, so the factory only satisfies the reader.
        var r = new LittleEndianReader(data, static () => new SvmFormatException("Upgrade state record is truncated."));
        if (r.U32() != Magic)
        {
            throw new SvmFormatException("Not an upgrade state record (bad magic).");
        }

        ushort version = r.U16();
        byte state = r.U8();
        byte outcome = r.U8();
        ulong sequence = r.U64();
        var target = r.Version();
        var previous = r.Version();
        long changedAt = r.I64();
        int sourceLength = r.U16();
        if (sourceLength > MaxSource || sourceLength + 2 + 4 > r.Remaining)
        {
            throw new SvmFormatException("Upgrade state record: bad source length.");
        }

        var source = r.Bytes(sourceLength);
        int messageLength = r.U16();
        if (messageLength > MaxMessage || messageLength + 4 != r.Remaining)
        {
            throw new SvmFormatException("Upgrade state record: bad message length.");
        }

        var message = r.Bytes(messageLength);
        if (Crc32C.Compute(r.Consumed) != r.U32())
        {
            throw new SvmFormatException("Upgrade state record: CRC mismatch.");
        }

        if (version != FormatVersion)
        {
            throw new SvmFormatException($"Upgrade state record format version {version} is not supported.");
        }

        if (!Enum.IsDefined((UpgradeState)state) || !Enum.IsDefined((UpgradeOutcome)outcome))
        {
            throw new SvmFormatException($"Upgrade state record: unknown state {state} or outcome {outcome}.");
        }

        if (changedAt < MinUnixMilliseconds || changedAt > MaxUnixMilliseconds)
        {
            throw new SvmFormatException($"Upgrade state record: time {changedAt} ms is outside the calendar.");
        }

        return new UpgradeStatus((UpgradeState)state, (UpgradeOutcome)outcome, sequence, target, previous,
            DateTimeOffset.FromUnixTimeMilliseconds(changedAt), Encoding.UTF8.GetString(source), Encoding.UTF8.GetString(message));
    }

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

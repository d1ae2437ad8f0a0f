using System.Diagnostics.CodeAnalysis;
using System.Text;
using Flash.Ffs.Format;

namespace Flash.Ffs.Contexts;

/// <summary>
/// The one layout definition of the context table record (format version 1, 100 bytes, little-endian, CRC-32C; see
/// docs/contexts.md): a pure codec over spans on the shared <see cref="LittleEndianWriter"/> and
/// <see cref="LittleEndianReader"/>. It owns no state; <see cref="ContextTable"/> is the value it encodes.
/// </summary>
internal static class ContextTableCodec
{
    internal const uint Magic = 0x54585443; // "CTXT" little-endian

    /// <summary>Offset of the CRC-32C, which covers every byte before it.</summary>
    internal const int CrcOffset = 96;

    private const byte AlternateBootFlag = 1;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Encodes <paramref name="table"/> into exactly <see cref="ContextTable.EncodedLength"/> bytes.</summary>
    /// <param name="table">The table; its labels must fit <see cref="ContextTable.MaxLabelBytes"/>.</param>
    /// <param name="destination">At least <see cref="ContextTable.EncodedLength"/> bytes.</param>
    internal static void Encode(ContextTable table, Span<byte> destination)
    {
        var w = new LittleEndianWriter(destination[..ContextTable.EncodedLength]);
        w.U32(Magic);
        w.U16(ContextTable.FormatVersion);
        w.U8((byte)table.Current);
        w.U8(table.AlternateBoot ? AlternateBootFlag : (byte)0);
        w.U64(table.Generation);
        w.U64(table.Sequence);
        w.U8((byte)table.State0);
        w.U8((byte)table.State1);
        w.U16((ushort)Math.Clamp(table.BootRetries, 0, ushort.MaxValue));
        w.U32(0); // reserved
        WriteLabel(ref w, table.Label0);
        WriteLabel(ref w, table.Label1);
        w.AppendCrc32C();
    }

    /// <summary>
    /// Decodes a table, checking in this order: length, magic, CRC, format version, field ranges; the first fault
    /// found is the one reported.
    /// </summary>
    /// <param name="data">The record.</param>
    /// <param name="table">The table when valid.</param>
    /// <param name="error">Why it is not valid.</param>
    /// <returns>Whether <paramref name="data"/> holds a valid table.</returns>
    internal static bool TryDecode(ReadOnlySpan<byte> data, [NotNullWhen(true)] out ContextTable? table, [NotNullWhen(false)] out string? error)
    {
        table = null;
        if (data.Length != ContextTable.EncodedLength)
        {
            error = $"The context table has {data.Length} bytes instead of {ContextTable.EncodedLength}.";
            return false;
        }

        // The length was checked above, so the reader cannot overrun; the factory only satisfies its contract.
        var r = new LittleEndianReader(data, static () => new ContextTableCorruptException("The context table is truncated."));
        if (r.U32() != Magic)
        {
            error = "The context table has a wrong magic number.";
            return false;
        }

        ushort version = r.U16();
        byte current = r.U8();
        byte flags = r.U8();
        ulong generation = r.U64();
        ulong sequence = r.U64();
        byte state0 = r.U8();
        byte state1 = r.U8();
        ushort retries = r.U16();
        r.Skip(4); // reserved
        var label0 = r.Bytes(ContextTable.MaxLabelBytes);
        var label1 = r.Bytes(ContextTable.MaxLabelBytes);
        if (Crc32C.Compute(r.Consumed) != r.U32())
        {
            error = "The context table fails its CRC-32C.";
            return false;
        }

        if (version != ContextTable.FormatVersion)
        {
            error = $"The context table has unknown format version {version}.";
            return false;
        }

        if (current > 1 || state0 > 3 || state1 > 3 || flags > AlternateBootFlag)
        {
            error = "The context table holds an out-of-range area, state or flag.";
            return false;
        }

        if (!TryReadLabel(label0, out string? text0) || !TryReadLabel(label1, out string? text1))
        {
            error = "The context table holds a label that is not UTF-8.";
            return false;
        }

        table = new ContextTable
        {
            Current = (ContextArea)current,
            AlternateBoot = flags == AlternateBootFlag,
            Generation = generation,
            Sequence = sequence,
            State0 = (ContextState)state0,
            State1 = (ContextState)state1,
            BootRetries = retries,
            Label0 = text0,
            Label1 = text1,
        };
        error = null;
        return true;
    }

    /// <summary>A label field: its UTF-8 bytes, zero padded to <see cref="ContextTable.MaxLabelBytes"/>.</summary>
    /// <remarks>
    /// The label's bytes are a heap array because the shared writer's <c>Bytes</c> parameter is not <c>scoped</c>, so
    /// a stack buffer may not be passed to it; the table is encoded once per commit, next to a file-system write.
    /// </remarks>
    private static void WriteLabel(ref LittleEndianWriter w, string label)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(label);
        if (utf8.Length > ContextTable.MaxLabelBytes)
        {
            throw new ArgumentException($"A version label takes at most {ContextTable.MaxLabelBytes} UTF-8 bytes.", nameof(label));
        }

        w.Bytes(utf8);
        w.Fill(0, ContextTable.MaxLabelBytes - utf8.Length);
    }

    /// <summary>
    /// A label field up to its first zero byte, as strict UTF-8: a label that does not decode would not encode back
    /// into its 32 bytes, so the next commit would fail; it is refused here instead.
    /// </summary>
    private static bool TryReadLabel(ReadOnlySpan<byte> field, [NotNullWhen(true)] out string? label)
    {
        int end = field.IndexOf((byte)0);
        try
        {
            label = StrictUtf8.GetString(end < 0 ? field : field[..end]);
            return true;
        }
        catch (DecoderFallbackException)
        {
            label = null;
            return false;
        }
    }
}

using System.Buffers.Binary;
using System.Text;

namespace Flash.Ffs.Format;

/// <summary>
/// The one bounds-checked little-endian reader of every on-flash and package format. An overrun, or a length that
/// points past the end, is bad input: the reader throws the exception its codec names (a corrupt volume for the file
/// system, a format error for SVM), made by the factory given at construction, so each layer keeps its precise error.
/// </summary>
public ref struct LittleEndianReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly Func<Exception> _overrun;
    private int _position;

    /// <summary>Reads <paramref name="data"/> from offset 0.</summary>
    /// <param name="data">The encoded bytes.</param>
    /// <param name="overrun">
    /// Makes the exception thrown when the data ends early; pass a static lambda so that nothing is allocated.
    /// </param>
    public LittleEndianReader(ReadOnlySpan<byte> data, Func<Exception> overrun)
    {
        ArgumentNullException.ThrowIfNull(overrun);
        _data = data;
        _overrun = overrun;
        _position = 0;
    }

    /// <summary>Bytes read so far.</summary>
    public readonly int Position => _position;

    /// <summary>Bytes left.</summary>
    public readonly int Remaining => _data.Length - _position;

    /// <summary>The bytes read so far (for a CRC over a record's prefix).</summary>
    public readonly ReadOnlySpan<byte> Consumed => _data[.._position];

    /// <summary>Reads one byte.</summary>
    /// <returns>The value.</returns>
    public byte U8() => Take(1)[0];

    /// <summary>Reads an unsigned 16-bit value.</summary>
    /// <returns>The value.</returns>
    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    /// <summary>Reads an unsigned 32-bit value.</summary>
    /// <returns>The value.</returns>
    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    /// <summary>Reads a signed 32-bit value.</summary>
    /// <returns>The value.</returns>
    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    /// <summary>Reads an unsigned 64-bit value.</summary>
    /// <returns>The value.</returns>
    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>Reads a signed 64-bit value.</summary>
    /// <returns>The value.</returns>
    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    /// <summary>Reads <paramref name="count"/> raw bytes (a slice of the input, not a copy).</summary>
    /// <param name="count">How many.</param>
    /// <returns>The bytes.</returns>
    public ReadOnlySpan<byte> Bytes(int count) => Take(count);

    /// <summary>Skips <paramref name="count"/> bytes.</summary>
    /// <param name="count">How many.</param>
    public void Skip(int count) => Take(count);

    /// <summary>Reads a string written by <see cref="LittleEndianWriter.Utf8WithLength16"/>.</summary>
    /// <returns>The string.</returns>
    public string Utf8WithLength16()
    {
        int n = U16();
        var bytes = Take(n);
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw _overrun();
        }
    }

    /// <summary>
    /// Reads a CRC-32C and checks it against every byte before it, from offset 0; a mismatch throws the overrun
    /// exception (the record is damaged).
    /// </summary>
    public void VerifyCrc32C()
    {
        uint expected = Crc32C.Compute(_data[.._position]);
        if (U32() != expected)
        {
            throw _overrun();
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || count > _data.Length - _position)
        {
            throw _overrun();
        }

        var slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }
}

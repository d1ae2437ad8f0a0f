using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Flash.Ffs.Format;

/// <summary>
/// The one little-endian writer of every on-flash and package format (file system records, contexts, SVM records).
/// It writes either into a caller's fixed span (a tag, a record of known size: nothing is allocated) or, created
/// with <see cref="Growable"/>, into a pooled buffer that doubles as needed (a checkpoint, an SGC file) and is
/// returned by <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Overrunning a fixed span is a bug in the codec that sized it, not bad input, hence
/// <see cref="InvalidOperationException"/>. Bad input is the reader's business (<see cref="LittleEndianReader"/>).
/// </remarks>
public ref struct LittleEndianWriter
{
    private Span<byte> _span;
    private byte[]? _rented;
    private int _position;

    /// <summary>Writes into <paramref name="destination"/>, which never grows.</summary>
    /// <param name="destination">Where the bytes go, from offset 0.</param>
    public LittleEndianWriter(Span<byte> destination)
    {
        _span = destination;
        _rented = null;
        _position = 0;
    }

    private LittleEndianWriter(byte[] rented)
    {
        _span = rented;
        _rented = rented;
        _position = 0;
    }

    /// <summary>A writer over a pooled buffer that grows as needed; dispose it to return the buffer.</summary>
    /// <param name="initialCapacity">Bytes to rent first (at least 256 are).</param>
    /// <returns>The writer.</returns>
    public static LittleEndianWriter Growable(int initialCapacity) =>
        new(ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, 256)));

    /// <summary>Bytes written so far.</summary>
    public readonly int Position => _position;

    /// <summary>The bytes written so far (valid until the next write or <see cref="Dispose"/>).</summary>
    public readonly ReadOnlySpan<byte> Written => _span[.._position];

    /// <summary>Writes one byte.</summary>
    /// <param name="value">The value.</param>
    public void U8(byte value) => Take(1)[0] = value;

    /// <summary>Writes an unsigned 16-bit value.</summary>
    /// <param name="value">The value.</param>
    public void U16(ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), value);

    /// <summary>Writes an unsigned 32-bit value.</summary>
    /// <param name="value">The value.</param>
    public void U32(uint value) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), value);

    /// <summary>Writes a signed 32-bit value.</summary>
    /// <param name="value">The value.</param>
    public void I32(int value) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), value);

    /// <summary>Writes an unsigned 64-bit value.</summary>
    /// <param name="value">The value.</param>
    public void U64(ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), value);

    /// <summary>Writes a signed 64-bit value.</summary>
    /// <param name="value">The value.</param>
    public void I64(long value) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), value);

    /// <summary>Writes raw bytes.</summary>
    /// <param name="value">The bytes (copied, never kept: <c>scoped</c>, so a stack buffer may be passed to a writer over a longer-lived span).</param>
    public void Bytes(scoped ReadOnlySpan<byte> value) => value.CopyTo(Take(value.Length));

    /// <summary>Writes <paramref name="count"/> copies of <paramref name="value"/> (padding, erased filler).</summary>
    /// <param name="value">The byte.</param>
    /// <param name="count">How many.</param>
    public void Fill(byte value, int count) => Take(count).Fill(value);

    /// <summary>Writes a string as its UTF-8 length (u16) followed by its UTF-8 bytes.</summary>
    /// <param name="value">The string.</param>
    /// <exception cref="ArgumentException">Its UTF-8 form is longer than 65,535 bytes.</exception>
    public void Utf8WithLength16(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int n = Encoding.UTF8.GetByteCount(value);
        if (n > ushort.MaxValue)
        {
            throw new ArgumentException("The string is too long for a 16-bit length.", nameof(value));
        }

        U16((ushort)n);
        Encoding.UTF8.GetBytes(value, Take(n));
    }

    /// <summary>Appends the CRC-32C of everything written so far.</summary>
    public void AppendCrc32C() => U32(Crc32C.Compute(Written));

    /// <summary>Overwrites an unsigned 32-bit value already written (a length or CRC known only at the end).</summary>
    /// <param name="offset">Where it was written.</param>
    /// <param name="value">The value.</param>
    public readonly void PatchU32(int offset, uint value)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, _position - 4);
        BinaryPrimitives.WriteUInt32LittleEndian(_span.Slice(offset, 4), value);
    }

    /// <summary>Forgets what was written; the buffer is kept.</summary>
    public void Reset() => _position = 0;

    /// <summary>Returns a growable writer's buffer to the pool; a fixed writer has nothing to return.</summary>
    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
            _span = default;
            _position = 0;
        }
    }

    private Span<byte> Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_position + count > _span.Length)
        {
            Grow(count);
        }

        var slice = _span.Slice(_position, count);
        _position += count;
        return slice;
    }

    private void Grow(int count)
    {
        if (_rented is null)
        {
            throw new InvalidOperationException(
                $"The record needs {_position + count} bytes but its buffer holds {_span.Length}.");
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_rented.Length * 2, _position + count));
        _span[.._position].CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_rented);
        _rented = bigger;
        _span = bigger;
    }
}

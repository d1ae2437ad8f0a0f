using System.Buffers;
using System.Buffers.Binary;

namespace Flash.Ffs.Checkpoint;

/// <summary>A little-endian writer over a pooled, growable buffer (checkpoint serialisation).</summary>
internal sealed class ByteWriter : IDisposable
{
    private byte[] _buffer;

    public ByteWriter(int initial) => _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initial, 256));

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, Length);

    public void U8(byte v) => Take(1)[0] = v;

    public void U16(ushort v) => BinaryPrimitives.WriteUInt16LittleEndian(Take(2), v);

    public void U32(uint v) => BinaryPrimitives.WriteUInt32LittleEndian(Take(4), v);

    public void I32(int v) => BinaryPrimitives.WriteInt32LittleEndian(Take(4), v);

    public void U64(ulong v) => BinaryPrimitives.WriteUInt64LittleEndian(Take(8), v);

    public void I64(long v) => BinaryPrimitives.WriteInt64LittleEndian(Take(8), v);

    public void Bytes(ReadOnlySpan<byte> v) => v.CopyTo(Take(v.Length));

    public void Reset() => Length = 0;

    public void PatchU32(int offset, uint v) => BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(offset), v);

    public void Dispose() => ArrayPool<byte>.Shared.Return(_buffer);

    private Span<byte> Take(int n)
    {
        if (Length + n > _buffer.Length)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Length + n));
            _buffer.AsSpan(0, Length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
        }

        var span = _buffer.AsSpan(Length, n);
        Length += n;
        return span;
    }
}

/// <summary>A bounds-checked little-endian reader; any overrun is a corrupt checkpoint.</summary>
internal ref struct ByteReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public ByteReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    public readonly int Remaining => _data.Length - _pos;

    public byte U8() => Take(1)[0];

    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public int I32() => BinaryPrimitives.ReadInt32LittleEndian(Take(4));

    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public long I64() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

    public ReadOnlySpan<byte> Bytes(int n) => Take(n);

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || _pos + n > _data.Length)
        {
            throw new FileSystemCorruptException("The checkpoint ends before its declared content.");
        }

        var span = _data.Slice(_pos, n);
        _pos += n;
        return span;
    }
}

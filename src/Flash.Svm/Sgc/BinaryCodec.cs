using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Flash.Svm.Sgc;

// What is left here serves only src/Flash.Svm/Packages (being rewritten under issue 21): every other SVM record is on
// the shared Flash.Ffs.Format codec. Delete this file when the packages move onto it too.

/// <summary>Little-endian writer of the package formats (see the note above).</summary>
internal sealed class BinWriter
{
    private readonly System.Buffers.ArrayBufferWriter<byte> _ms = new();

    public long Position => _ms.WrittenCount;

    public void U8(byte v) => _ms.Write([v]);

    public void U16(ushort v)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, v);
        _ms.Write(b);
    }

    public void U32(uint v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, v);
        _ms.Write(b);
    }

    public void U64(ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        _ms.Write(b);
    }

    public void Bytes(ReadOnlySpan<byte> b) => _ms.Write(b);

    public void Str(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        if (b.Length > ushort.MaxValue)
        {
            throw new ArgumentException("String too long for the format.", nameof(s));
        }

        U16((ushort)b.Length);
        _ms.Write(b);
    }

    public void Version(SoftwareVersion v)
    {
        U16(v.Major);
        U16(v.Minor);
        U16(v.Patch);
    }

    /// <summary>Appends the CRC-32C of everything written so far and returns the bytes.</summary>
    public byte[] ToArrayWithCrc()
    {
        U32(Crc.Of(_ms.WrittenSpan));
        return _ms.WrittenSpan.ToArray();
    }

    public byte[] ToArray() => _ms.WrittenSpan.ToArray();
}

/// <summary>Little-endian reader; every overrun is an <see cref="SvmFormatException"/>.</summary>
internal ref struct BinReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _pos;

    public BinReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _pos = 0;
    }

    public readonly int Position => _pos;

    public readonly int Remaining => _data.Length - _pos;

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || n > _data.Length - _pos)
        {
            throw new SvmFormatException("Unexpected end of data.");
        }

        var s = _data.Slice(_pos, n);
        _pos += n;
        return s;
    }

    public byte U8() => Take(1)[0];

    public ushort U16() => BinaryPrimitives.ReadUInt16LittleEndian(Take(2));

    public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public ReadOnlySpan<byte> Bytes(int n) => Take(n);

    public string Str() => Encoding.UTF8.GetString(Take(U16()));

    public SoftwareVersion Version() => new(U16(), U16(), U16());
}

/// <summary>CRC-32C for the package codecs (one implementation: <see cref="Flash.Ffs.Format.Crc32C"/>).</summary>
internal static class Crc
{
    public static uint Of(ReadOnlySpan<byte> data) => Flash.Ffs.Format.Crc32C.Compute(data);
}

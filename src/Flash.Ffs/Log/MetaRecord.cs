using System.Buffers.Binary;
using System.Text;

namespace Flash.Ffs.Log;

/// <summary>Types of metadata record inside a <see cref="PageKind.Meta"/> page.</summary>
internal enum MetaRecordType : byte
{
    /// <summary>The whole state of one entry: parent, name, kind, size, and inline data for small files.</summary>
    Inode = 1,

    /// <summary>An entry and all its data are gone.</summary>
    Delete = 2,

    /// <summary>A relocation of a small file's inline data (garbage collection); changes nothing else.</summary>
    InlineMove = 3,
}

/// <summary>A decoded metadata record. Inline data and name refer into the page buffer they were read from.</summary>
internal readonly ref struct MetaRecord
{
    public const int HeaderSize = 4;
    public const int InodeFixedSize = HeaderSize + 20;
    public const int DeleteSize = HeaderSize + 4;
    public const int InlineMoveFixedSize = HeaderSize + 6;
    public const ushort NotInline = 0xFFFF;

    /// <summary>Inode flag: the file's data is in data pages (drop any inline data, cut chunks to the size).</summary>
    public const byte FlagChunked = 0x01;

    public MetaRecordType Type { get; init; }

    public uint Id { get; init; }

    public uint ParentId { get; init; }

    public bool IsDirectory { get; init; }

    public long Size { get; init; }

    public ReadOnlySpan<byte> NameUtf8 { get; init; }

    public bool HasInline { get; init; }

    /// <summary>Inode: the file is stored in data pages.</summary>
    public bool IsChunked { get; init; }

    public ReadOnlySpan<byte> Inline { get; init; }

    /// <summary>Offset of the inline data within the page payload.</summary>
    public int InlineOffset { get; init; }

    public static int InodeSize(int nameBytes, int inlineBytes) => InodeFixedSize + nameBytes + inlineBytes;

    /// <summary>
    /// Whether <paramref name="payload"/> (a metadata page) holds, at <paramref name="inlineOffset"/>, the inline data
    /// of entry <paramref name="id"/> with at least <paramref name="size"/> bytes: the record there must be that
    /// entry's inode or inline move. A metadata page of another erase cycle or block passes every other check.
    /// </summary>
    public static bool HoldsInline(ReadOnlySpan<byte> payload, uint id, int inlineOffset, long size)
    {
        for (int offset = 0; TryRead(payload, offset, out var rec, out int length); offset += length)
        {
            if (rec.InlineOffset == inlineOffset && rec.HasInline && rec.Id == id)
            {
                return rec.Inline.Length >= size;
            }

            if (offset > inlineOffset)
            {
                break;
            }
        }

        return false;
    }

    /// <summary>Writes an inode record; returns its length. The inline data starts at <c>offset + InodeFixedSize + name.Length</c>.</summary>
    public static int WriteInode(Span<byte> dest, uint id, uint parent, bool isDirectory, long size, ReadOnlySpan<byte> name, ReadOnlySpan<byte> inline, bool hasInline, bool chunked)
    {
        int length = InodeSize(name.Length, inline.Length);
        dest[0] = (byte)MetaRecordType.Inode;
        dest[1] = chunked ? FlagChunked : (byte)0;
        BinaryPrimitives.WriteUInt16LittleEndian(dest[2..], (ushort)length);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[4..], id);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[8..], parent);
        dest[12] = isDirectory ? (byte)2 : (byte)1;
        dest[13] = (byte)name.Length;
        BinaryPrimitives.WriteUInt16LittleEndian(dest[14..], hasInline ? (ushort)inline.Length : NotInline);
        BinaryPrimitives.WriteInt64LittleEndian(dest[16..], size);
        name.CopyTo(dest[InodeFixedSize..]);
        inline.CopyTo(dest[(InodeFixedSize + name.Length)..]);
        return length;
    }

    public static int WriteDelete(Span<byte> dest, uint id)
    {
        dest[0] = (byte)MetaRecordType.Delete;
        dest[1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(dest[2..], DeleteSize);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[4..], id);
        return DeleteSize;
    }

    public static int WriteInlineMove(Span<byte> dest, uint id, ReadOnlySpan<byte> inline)
    {
        int length = InlineMoveFixedSize + inline.Length;
        dest[0] = (byte)MetaRecordType.InlineMove;
        dest[1] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(dest[2..], (ushort)length);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[4..], id);
        BinaryPrimitives.WriteUInt16LittleEndian(dest[8..], (ushort)inline.Length);
        inline.CopyTo(dest[InlineMoveFixedSize..]);
        return length;
    }

    /// <summary>Decodes the record at <paramref name="offset"/>; false when the bytes are not a well-formed record.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, int offset, out MetaRecord record, out int length)
    {
        record = default;
        length = 0;
        if (offset + HeaderSize > payload.Length)
        {
            return false;
        }

        var r = payload[offset..];
        length = BinaryPrimitives.ReadUInt16LittleEndian(r[2..]);
        if (length < HeaderSize || length > r.Length)
        {
            return false;
        }

        switch ((MetaRecordType)r[0])
        {
            case MetaRecordType.Inode:
            {
                if (length < InodeFixedSize)
                {
                    return false;
                }

                int nameLength = r[13];
                ushort inlineLength = BinaryPrimitives.ReadUInt16LittleEndian(r[14..]);
                bool hasInline = inlineLength != NotInline;
                int inlineBytes = hasInline ? inlineLength : 0;
                long size = BinaryPrimitives.ReadInt64LittleEndian(r[16..]);
                if (length != InodeFixedSize + nameLength + inlineBytes || size < 0 || (hasInline && size != inlineBytes) || r[12] is not (1 or 2))
                {
                    return false;
                }

                record = new MetaRecord
                {
                    Type = MetaRecordType.Inode,
                    Id = BinaryPrimitives.ReadUInt32LittleEndian(r[4..]),
                    ParentId = BinaryPrimitives.ReadUInt32LittleEndian(r[8..]),
                    IsDirectory = r[12] == 2,
                    Size = size,
                    NameUtf8 = r.Slice(InodeFixedSize, nameLength),
                    HasInline = hasInline,
                    IsChunked = (r[1] & FlagChunked) != 0,
                    Inline = r.Slice(InodeFixedSize + nameLength, inlineBytes),
                    InlineOffset = offset + InodeFixedSize + nameLength,
                };
                return true;
            }

            case MetaRecordType.Delete:
                if (length != DeleteSize)
                {
                    return false;
                }

                record = new MetaRecord { Type = MetaRecordType.Delete, Id = BinaryPrimitives.ReadUInt32LittleEndian(r[4..]) };
                return true;

            case MetaRecordType.InlineMove:
            {
                if (length < InlineMoveFixedSize)
                {
                    return false;
                }

                int inlineLength = BinaryPrimitives.ReadUInt16LittleEndian(r[8..]);
                if (length != InlineMoveFixedSize + inlineLength)
                {
                    return false;
                }

                record = new MetaRecord
                {
                    Type = MetaRecordType.InlineMove,
                    Id = BinaryPrimitives.ReadUInt32LittleEndian(r[4..]),
                    HasInline = true,
                    Size = inlineLength,
                    Inline = r.Slice(InlineMoveFixedSize, inlineLength),
                    InlineOffset = offset + InlineMoveFixedSize,
                };
                return true;
            }

            default:
                return false;
        }
    }

    public string Name => Encoding.UTF8.GetString(NameUtf8);
}

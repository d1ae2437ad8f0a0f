using System.Text;

namespace Flash.Ffs.Format;

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
        var w = new LittleEndianWriter(dest[..length]);
        w.U8((byte)MetaRecordType.Inode);
        w.U8(chunked ? FlagChunked : (byte)0);
        w.U16((ushort)length);
        w.U32(id);
        w.U32(parent);
        w.U8(isDirectory ? (byte)2 : (byte)1);
        w.U8((byte)name.Length);
        w.U16(hasInline ? (ushort)inline.Length : NotInline);
        w.I64(size);
        w.Bytes(name);
        w.Bytes(inline);
        return length;
    }

    public static int WriteDelete(Span<byte> dest, uint id)
    {
        var w = new LittleEndianWriter(dest[..DeleteSize]);
        WriteHeader(ref w, MetaRecordType.Delete, DeleteSize);
        w.U32(id);
        return DeleteSize;
    }

    public static int WriteInlineMove(Span<byte> dest, uint id, ReadOnlySpan<byte> inline)
    {
        int length = InlineMoveFixedSize + inline.Length;
        var w = new LittleEndianWriter(dest[..length]);
        WriteHeader(ref w, MetaRecordType.InlineMove, length);
        w.U32(id);
        w.U16((ushort)inline.Length);
        w.Bytes(inline);
        return length;
    }

    /// <summary>Decodes the record at <paramref name="offset"/>; false when the bytes are not a well-formed record.</summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, int offset, out MetaRecord record, out int length)
    {
        record = default;
        length = 0;
        if (offset + HeaderSize > payload.Length)
        {
            length = 0;
            return false;
        }

        var rest = payload[offset..];
        var header = new LittleEndianReader(rest[..HeaderSize], s_overrun);
        var type = (MetaRecordType)header.U8();
        byte flags = header.U8();
        length = header.U16();
        if (length < HeaderSize || length > rest.Length)
        {
            return false;
        }

        var body = rest[..length];
        var r = new LittleEndianReader(body, s_overrun);
        r.Skip(HeaderSize);
        switch (type)
        {
            case MetaRecordType.Inode:
            {
                if (length < InodeFixedSize)
                {
                    return false;
                }

                uint id = r.U32();
                uint parent = r.U32();
                byte kind = r.U8();
                int nameLength = r.U8();
                ushort inlineLength = r.U16();
                long size = r.I64();
                bool hasInline = inlineLength != NotInline;
                int inlineBytes = hasInline ? inlineLength : 0;
                if (length != InodeFixedSize + nameLength + inlineBytes || size < 0 || (hasInline && size != inlineBytes) || kind is not (1 or 2))
                {
                    return false;
                }

                record = new MetaRecord
                {
                    Type = MetaRecordType.Inode,
                    Id = id,
                    ParentId = parent,
                    IsDirectory = kind == 2,
                    Size = size,
                    NameUtf8 = r.Bytes(nameLength),
                    HasInline = hasInline,
                    IsChunked = (flags & FlagChunked) != 0,
                    Inline = r.Bytes(inlineBytes),
                    InlineOffset = offset + InodeFixedSize + nameLength,
                };
                return true;
            }

            case MetaRecordType.Delete:
                if (length != DeleteSize)
                {
                    return false;
                }

                record = new MetaRecord { Type = MetaRecordType.Delete, Id = r.U32() };
                return true;

            case MetaRecordType.InlineMove:
            {
                if (length < InlineMoveFixedSize)
                {
                    return false;
                }

                uint id = r.U32();
                int inlineLength = r.U16();
                if (length != InlineMoveFixedSize + inlineLength)
                {
                    return false;
                }

                record = new MetaRecord
                {
                    Type = MetaRecordType.InlineMove,
                    Id = id,
                    HasInline = true,
                    Size = inlineLength,
                    Inline = r.Bytes(inlineLength),
                    InlineOffset = offset + InlineMoveFixedSize,
                };
                return true;
            }

            default:
                return false;
        }
    }

    private static void WriteHeader(ref LittleEndianWriter w, MetaRecordType type, int length)
    {
        w.U8((byte)type);
        w.U8(0);
        w.U16((ushort)length);
    }

    // Lengths are checked before the fields are read, so an overrun here would be a bug in this decoder.
    private static readonly Func<Exception> s_overrun = static () => new FileSystemCorruptException("A metadata record ends before its fields.");

    public string Name => Encoding.UTF8.GetString(NameUtf8);
}

namespace Flash.Ffs.Format;

/// <summary>What a page holds.</summary>
internal enum PageKind : byte
{
    /// <summary>One chunk of a file's data.</summary>
    Data = 1,

    /// <summary>Metadata records (inode updates, deletions, inline data).</summary>
    Meta = 2,

    /// <summary>A page of a checkpoint.</summary>
    Checkpoint = 3,

    /// <summary>A superblock/anchor page pointing at the current checkpoint.</summary>
    Anchor = 4,
}

/// <summary>Flags in the high nibble of a tag's kind byte.</summary>
[Flags]
internal enum PageFlags : byte
{
    None = 0,

    /// <summary>This page ends its transaction: the transaction's records take effect at replay.</summary>
    Commit = 0x10,

    /// <summary>The page is a garbage-collection or wear-levelling copy; it moves data, it does not change it.</summary>
    Relocated = 0x20,
}

/// <summary>
/// The 32-byte tag every written page carries, in the spare area (NAND, YAFFS2-style) or at the end of the page (NOR).
/// Layout (little-endian): magic u8, kind|flags u8, byte count u16, sequence u64, object id u32, chunk u32,
/// transaction id u32, payload CRC-32C u32, tag CRC-32C u32 over the first 28 bytes. See docs/format.md.
/// </summary>
internal struct PageTag
{
    public const int Size = 32;
    public const byte Magic = 0xF1;

    public PageKind Kind;
    public PageFlags Flags;
    public ushort ByteCount;
    public ulong Sequence;
    public uint ObjectId;
    public uint Chunk;
    public uint TxnId;
    public uint PayloadCrc;

    public readonly bool IsCommit => (Flags & PageFlags.Commit) != 0;

    public readonly bool IsRelocated => (Flags & PageFlags.Relocated) != 0;

    /// <summary>Encodes the tag into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public readonly void Write(Span<byte> destination)
    {
        var w = new LittleEndianWriter(destination[..Size]);
        w.U8(Magic);
        w.U8((byte)((byte)Kind | (byte)Flags));
        w.U16(ByteCount);
        w.U64(Sequence);
        w.U32(ObjectId);
        w.U32(Chunk);
        w.U32(TxnId);
        w.U32(PayloadCrc);
        w.AppendCrc32C();
    }

    /// <summary>Decodes a tag; false when the bytes are erased, torn or not a tag of this format version.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out PageTag tag)
    {
        tag = default;
        var r = new LittleEndianReader(source[..Size], static () => new FileSystemCorruptException("A page tag is shorter than 32 bytes."));
        if (r.U8() != Magic)
        {
            return false;
        }

        byte kindByte = r.U8();
        var candidate = new PageTag
        {
            Kind = (PageKind)(kindByte & 0x0F),
            Flags = (PageFlags)(kindByte & 0xF0),
            ByteCount = r.U16(),
            Sequence = r.U64(),
            ObjectId = r.U32(),
            Chunk = r.U32(),
            TxnId = r.U32(),
            PayloadCrc = r.U32(),
        };
        if (r.U32() != Crc32C.Compute(source[..(Size - 4)]) || candidate.Kind is < PageKind.Data or > PageKind.Anchor)
        {
            return false;
        }

        tag = candidate;
        return true;
    }

    /// <summary>Whether tag bytes are still erased (the page was never programmed).</summary>
    public static bool IsErased(ReadOnlySpan<byte> source) => !source[..Size].ContainsAnyExcept((byte)0xFF);
}

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

    /// <summary>
    /// Version 4: the page before this one in its transaction (ordinal one lower) was a metadata page. Recovery
    /// drops a transaction with a lost page alone only when that page held data (a lost metadata page's records
    /// are unknown, so what depends on them cannot be told).
    /// </summary>
    AfterMeta = 0x40,
}

/// <summary>
/// The 32-byte tag every written page carries, in the spare area (NAND, YAFFS2-style) or at the end of the page (NOR).
/// Layout (little-endian, version 4, magic 0xF2): magic u8, kind|flags u8, byte count u16, sequence u48, transaction
/// page ordinal u16, object id u32, chunk u32, transaction id u32, payload CRC-32C u32, tag CRC-32C u32 over the first
/// 28 bytes. Tags of versions 1-3 (magic 0xF1) have a u64 sequence and no ordinal; they are still read. See
/// docs/format.md ("Page tag").
/// </summary>
internal struct PageTag
{
    public const int Size = 32;

    /// <summary>The magic of tags written now (format version 4: 48-bit sequence and transaction page ordinal).</summary>
    public const byte Magic = 0xF2;

    /// <summary>The magic of tags written by format versions 1-3 (64-bit sequence, no ordinal); read, never written.</summary>
    public const byte MagicV3 = 0xF1;

    /// <summary>Offset of the u16 transaction page ordinal in a version-4 tag (bytes 4-9 hold the 48-bit sequence).</summary>
    public const int OrdinalOffset = 10;

    /// <summary>The highest sequence number a version-4 tag holds (48 bits: at 2^20 per recovery, 2^28 unclean mounts).</summary>
    public const ulong MaxSequence = (1UL << 48) - 1;

    public PageKind Kind;
    public PageFlags Flags;
    public ushort ByteCount;
    public ulong Sequence;

    /// <summary>
    /// Version 4: the page's place among the pages of its transaction (0, 1, 2, ... modulo 2^16, so the commit page's
    /// ordinal plus one is the transaction's page count); for a self-contained page (transaction 0), its place among
    /// the self-contained pages the mount wrote. Recovery counts the pages it lost with it (<c>TxnPageAccounting</c>).
    /// </summary>
    public ushort Ordinal;

    public uint ObjectId;
    public uint Chunk;
    public uint TxnId;
    public uint PayloadCrc;

    /// <summary>Whether the tag was read from a version-4 tag, which carries <see cref="Ordinal"/> and <see cref="PageFlags.AfterMeta"/>.</summary>
    public bool HasOrdinal;

    public readonly bool IsCommit => (Flags & PageFlags.Commit) != 0;

    public readonly bool IsRelocated => (Flags & PageFlags.Relocated) != 0;

    /// <summary>Whether the page before this one in its transaction was a metadata page (version 4).</summary>
    public readonly bool IsAfterMeta => (Flags & PageFlags.AfterMeta) != 0;

    /// <summary>Encodes the tag (version 4) into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    /// <exception cref="FlashFileSystemException">The sequence number no longer fits the tag.</exception>
    public readonly void Write(Span<byte> destination)
    {
        if (Sequence > MaxSequence)
        {
            throw new FlashFileSystemException("The volume has used up its 2^48 page sequence numbers.");
        }

        var w = new LittleEndianWriter(destination[..Size]);
        w.U8(Magic);
        w.U8((byte)((byte)Kind | (byte)Flags));
        w.U16(ByteCount);
        w.U32((uint)Sequence);
        w.U16((ushort)(Sequence >> 32));
        w.U16(Ordinal);
        w.U32(ObjectId);
        w.U32(Chunk);
        w.U32(TxnId);
        w.U32(PayloadCrc);
        w.AppendCrc32C();
    }

    /// <summary>Decodes a tag of either layout; false when the bytes are erased, torn or not a tag.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out PageTag tag)
    {
        tag = default;
        var r = new LittleEndianReader(source[..Size], static () => new FileSystemCorruptException("A page tag is shorter than 32 bytes."));
        byte magic = r.U8();
        if (magic is not (Magic or MagicV3))
        {
            return false;
        }

        bool v4 = magic == Magic;
        byte kindByte = r.U8();
        var candidate = new PageTag
        {
            Kind = (PageKind)(kindByte & 0x0F),
            Flags = (PageFlags)(kindByte & (v4 ? 0xF0 : 0x30)),
            ByteCount = r.U16(),
            HasOrdinal = v4,
        };
        if (v4)
        {
            candidate.Sequence = r.U32() | ((ulong)r.U16() << 32);
            candidate.Ordinal = r.U16();
        }
        else
        {
            candidate.Sequence = r.U64();
        }

        candidate.ObjectId = r.U32();
        candidate.Chunk = r.U32();
        candidate.TxnId = r.U32();
        candidate.PayloadCrc = r.U32();
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

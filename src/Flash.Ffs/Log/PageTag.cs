using Flash.Ffs.Format;
using System.Buffers.Binary;

namespace Flash.Ffs.Log;

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

    public readonly void Write(Span<byte> destination)
    {
        destination[0] = Magic;
        destination[1] = (byte)((byte)Kind | (byte)Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], ByteCount);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[4..], Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], ObjectId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], Chunk);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], TxnId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[24..], PayloadCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[28..], Crc32C.Compute(destination[..28]));
    }

    /// <summary>Decodes a tag; false when the bytes are erased, torn or not a tag of this format version.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out PageTag tag)
    {
        tag = default;
        if (source[0] != Magic || BinaryPrimitives.ReadUInt32LittleEndian(source[28..]) != Crc32C.Compute(source[..28]))
        {
            return false;
        }

        byte kindByte = source[1];
        tag.Kind = (PageKind)(kindByte & 0x0F);
        tag.Flags = (PageFlags)(kindByte & 0xF0);
        if (tag.Kind is < PageKind.Data or > PageKind.Anchor)
        {
            return false;
        }

        tag.ByteCount = BinaryPrimitives.ReadUInt16LittleEndian(source[2..]);
        tag.Sequence = BinaryPrimitives.ReadUInt64LittleEndian(source[4..]);
        tag.ObjectId = BinaryPrimitives.ReadUInt32LittleEndian(source[12..]);
        tag.Chunk = BinaryPrimitives.ReadUInt32LittleEndian(source[16..]);
        tag.TxnId = BinaryPrimitives.ReadUInt32LittleEndian(source[20..]);
        tag.PayloadCrc = BinaryPrimitives.ReadUInt32LittleEndian(source[24..]);
        return true;
    }

    /// <summary>Whether tag bytes are still erased (the page was never programmed).</summary>
    public static bool IsErased(ReadOnlySpan<byte> source) => !source[..Size].ContainsAnyExcept((byte)0xFF);
}

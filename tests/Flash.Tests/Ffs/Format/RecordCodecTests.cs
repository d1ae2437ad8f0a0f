using Flash.Ffs;
using Flash.Ffs.Format;
using Flash.Tests.PowerLoss;

namespace Flash.Tests.Ffs.Format;

/// <summary>
/// The on-flash record codecs on their own (issue 18): page tag, metadata record and anchor round trip exactly, and
/// damaged bytes are rejected the documented way (a tag or record is refused, an anchor throws
/// <see cref="FileSystemCorruptException"/>), never decoded into other values and never with another exception. The
/// fuzz loops run <see cref="PowerLossProfile.FuzzImages"/> cases (more in the exhaustive profile).
/// </summary>
public sealed class RecordCodecTests
{
    private static int FuzzCases => PowerLossProfile.FuzzImages;

    private static PageTag RandomTag(Random random) => new()
    {
        Kind = (PageKind)random.Next(1, 5),
        Flags = (PageFlags)(random.Next(8) << 4),
        ByteCount = (ushort)random.Next(ushort.MaxValue + 1),
        Sequence = (ulong)random.NextInt64() & PageTag.MaxSequence,
        Ordinal = (ushort)random.Next(ushort.MaxValue + 1),
        HasOrdinal = true,
        ObjectId = (uint)random.Next(),
        Chunk = (uint)random.Next(),
        TxnId = (uint)random.Next(),
        PayloadCrc = (uint)random.Next(),
    };

    [Fact]
    public void A_page_tag_round_trips_and_has_the_documented_layout()
    {
        var tag = new PageTag
        {
            Kind = PageKind.Meta, Flags = PageFlags.Commit | PageFlags.AfterMeta, ByteCount = 0x0102, Sequence = 0x3344_5566_7788, Ordinal = 0xABCD,
            ObjectId = 7, Chunk = 9, TxnId = 3, PayloadCrc = 0xCAFEBABE, HasOrdinal = true,
        };
        var bytes = new byte[PageTag.Size];
        tag.Write(bytes);
        Assert.Equal(new byte[] { 0xF2, 0x52, 0x02, 0x01, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0xCD, 0xAB, 7, 0, 0, 0, 9, 0, 0, 0, 3, 0, 0, 0 }, bytes[..24]);
        Assert.Equal(Crc32C.Compute(bytes.AsSpan(0, 28)), BitConverter.ToUInt32(bytes, 28));
        Assert.True(PageTag.TryRead(bytes, out var read));
        Assert.Equal(tag, read);
        Assert.False(PageTag.TryRead(new byte[PageTag.Size].AsSpan(), out _));
        Assert.True(PageTag.IsErased(Enumerable.Repeat((byte)0xFF, PageTag.Size).ToArray()));
    }

    [Fact]
    public void A_version_3_page_tag_is_still_read()
    {
        // Magic 0xF1: u64 sequence at 4, no ordinal; the layout of format versions 1-3.
        var bytes = new byte[PageTag.Size];
        var w = new LittleEndianWriter(bytes);
        w.U8(0xF1);
        w.U8(0x12);
        w.U16(0x0102);
        w.U64(0x1122334455667788);
        w.U32(7);
        w.U32(9);
        w.U32(3);
        w.U32(0xCAFEBABE);
        w.AppendCrc32C();
        Assert.True(PageTag.TryRead(bytes, out var read));
        Assert.Equal(
            new PageTag { Kind = PageKind.Meta, Flags = PageFlags.Commit, ByteCount = 0x0102, Sequence = 0x1122334455667788, ObjectId = 7, Chunk = 9, TxnId = 3, PayloadCrc = 0xCAFEBABE },
            read);
    }

    [Fact]
    public void A_sequence_beyond_48_bits_is_refused()
        => Assert.Throws<FlashFileSystemException>(() => new PageTag { Kind = PageKind.Data, Sequence = PageTag.MaxSequence + 1 }.Write(new byte[PageTag.Size]));

    [Fact]
    public void A_damaged_page_tag_is_refused()
    {
        var random = new Random(18);
        var bytes = new byte[PageTag.Size];
        for (int i = 0; i < FuzzCases; i++)
        {
            var tag = RandomTag(random);
            tag.Write(bytes);
            Assert.True(PageTag.TryRead(bytes, out var read));
            Assert.Equal(tag, read);

            // CRC-32C detects every burst of up to 32 bits: flip a run of 1 to 4 bytes.
            int at = random.Next(PageTag.Size);
            int run = Math.Min(random.Next(1, 5), PageTag.Size - at);
            for (int k = 0; k < run; k++)
            {
                bytes[at + k] ^= (byte)random.Next(1, 256);
            }

            Assert.False(PageTag.TryRead(bytes, out _), $"case {i}: a tag damaged at {at}+{run} was accepted");
        }
    }

    [Fact]
    public void Metadata_records_round_trip_in_one_page()
    {
        var page = new byte[512];
        int offset = 0;
        offset += MetaRecord.WriteInode(page.AsSpan(offset), 5, 1, isDirectory: false, 3, "a.txt"u8, "abc"u8, hasInline: true, chunked: false);
        offset += MetaRecord.WriteDelete(page.AsSpan(offset), 6);
        offset += MetaRecord.WriteInlineMove(page.AsSpan(offset), 7, "xy"u8);
        offset += MetaRecord.WriteInode(page.AsSpan(offset), 8, 1, isDirectory: true, 0, "d"u8, [], hasInline: false, chunked: true);

        Assert.True(MetaRecord.TryRead(page, 0, out var inode, out int length));
        Assert.Equal((MetaRecordType.Inode, 5u, 1u, false, 3L, "a.txt", true, "abc"), (inode.Type, inode.Id, inode.ParentId, inode.IsDirectory, inode.Size, inode.Name, inode.HasInline, System.Text.Encoding.ASCII.GetString(inode.Inline)));
        Assert.Equal(MetaRecord.InodeSize(5, 3), length);
        Assert.True(MetaRecord.HoldsInline(page, 5, inode.InlineOffset, 3));
        int at = length;
        Assert.True(MetaRecord.TryRead(page, at, out var delete, out length));
        Assert.Equal((MetaRecordType.Delete, 6u, MetaRecord.DeleteSize), (delete.Type, delete.Id, length));
        at += length;
        Assert.True(MetaRecord.TryRead(page, at, out var move, out length));
        Assert.Equal((MetaRecordType.InlineMove, 7u, 2L, "xy"), (move.Type, move.Id, move.Size, System.Text.Encoding.ASCII.GetString(move.Inline)));
        at += length;
        Assert.True(MetaRecord.TryRead(page, at, out var dir, out length));
        Assert.Equal((true, true, false, "d"), (dir.IsDirectory, dir.IsChunked, dir.HasInline, dir.Name));
        Assert.Equal(offset, at + length);
        Assert.False(MetaRecord.TryRead(page, offset, out _, out _));
    }

    [Fact]
    public void Damaged_metadata_records_are_refused_or_decode_within_their_bounds()
    {
        var random = new Random(1818);
        var page = new byte[256];
        for (int i = 0; i < FuzzCases; i++)
        {
            Array.Clear(page);
            int name = random.Next(1, 40);
            int inline = random.Next(0, 100);
            int length = MetaRecord.WriteInode(page, (uint)random.Next(), 1, false, inline, new byte[name], new byte[inline], hasInline: true, chunked: false);
            int flips = random.Next(1, 4);
            for (int k = 0; k < flips; k++)
            {
                page[random.Next(length + 8)] ^= (byte)(1 << random.Next(8));
            }

            // A damaged record either is refused or decodes into a record whose parts lie inside the page and agree
            // with its length; the page CRC (in the tag) is what rejects content damage.
            for (int offset = 0; MetaRecord.TryRead(page, offset, out var record, out int read); offset += read)
            {
                Assert.InRange(read, MetaRecord.HeaderSize, page.Length - offset);
                Assert.True(record.Inline.Length <= read && record.NameUtf8.Length <= read, $"case {i}");
                Assert.True(record.Size >= 0, $"case {i}");
            }
        }
    }

    /// <summary>A sample anchor record (the pool codec tests take it on more blocks, with a pool).</summary>
    internal static AnchorRecord SampleAnchor(ushort version = 2, int blockCount = 64, int[]? pool = null) => new()
    {
        Version = version,
        TagSize = PageTag.Size,
        PageSize = 2048,
        SpareSize = 64,
        PagesPerBlock = 16,
        BlockCount = blockCount,
        Kind = 0,
        TagInSpare = true,
        VolumeId = 0xF1A5,
        CheckpointSequence = 1234,
        CheckpointLength = 5000,
        CheckpointCrc = 0xABCDEF01,
        CheckpointPageCount = 20,
        Label = "node-7",
        AnchorBlock0 = 0,
        AnchorBlock1 = 1,
        List = version == 1 ? [.. Enumerable.Range(32, 20)] : [2, 9],
        Pool = pool,
    };

    [Fact]
    public void An_anchor_round_trips_in_both_versions()
    {
        foreach (ushort version in new ushort[] { 1, 2 })
        {
            var anchor = SampleAnchor(version);
            var bytes = new byte[anchor.EncodedSize];
            anchor.Encode(bytes);
            Assert.Equal("FLASHFS\0"u8.ToArray(), bytes[..8]);
            var read = AnchorRecord.Decode(bytes, 1, 2, PageTag.Size);
            Assert.Equal(
                (anchor.Version, anchor.PageSize, anchor.SpareSize, anchor.PagesPerBlock, anchor.BlockCount, anchor.TagInSpare, anchor.VolumeId, anchor.CheckpointSequence, anchor.CheckpointLength, anchor.CheckpointCrc, anchor.CheckpointPageCount, anchor.Label, anchor.AnchorBlock0, anchor.AnchorBlock1),
                (read.Version, read.PageSize, read.SpareSize, read.PagesPerBlock, read.BlockCount, read.TagInSpare, read.VolumeId, read.CheckpointSequence, read.CheckpointLength, read.CheckpointCrc, read.CheckpointPageCount, read.Label, read.AnchorBlock0, read.AnchorBlock1));
            Assert.Equal(anchor.List, read.List);
            Assert.Equal((0, 1), AnchorRecord.AnchorBlocksNamedIn(bytes));
        }
    }

    [Fact]
    public void An_anchor_with_a_wrong_magic_version_or_length_is_refused()
    {
        var anchor = SampleAnchor();
        var bytes = new byte[anchor.EncodedSize];
        anchor.Encode(bytes);
        Assert.Throws<FileSystemCorruptException>(() => AnchorRecord.Decode(bytes.AsSpan(0, AnchorRecord.FixedSize - 1), 1, 2, PageTag.Size));
        var magic = (byte[])bytes.Clone();
        magic[3] ^= 1;
        Assert.Throws<FileSystemCorruptException>(() => AnchorRecord.Decode(magic, 1, 2, PageTag.Size));
        Assert.Throws<FileSystemCorruptException>(() => AnchorRecord.Decode(bytes, 3, 4, PageTag.Size));
        Assert.Throws<FileSystemCorruptException>(() => AnchorRecord.Decode(bytes, 1, 2, 16));
        Assert.Null(AnchorRecord.Decode(bytes.AsSpan(0, bytes.Length - 1), 1, 2, PageTag.Size).List);
    }

    [Fact]
    public void Damaged_anchors_decode_or_throw_the_corruption_exception()
    {
        var random = new Random(181818);
        var anchor = SampleAnchor();
        var clean = new byte[anchor.EncodedSize];
        anchor.Encode(clean);
        for (int i = 0; i < FuzzCases; i++)
        {
            var bytes = (byte[])clean.Clone();
            int flips = random.Next(1, 6);
            for (int k = 0; k < flips; k++)
            {
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            }

            int length = random.Next(4) == 0 ? random.Next(bytes.Length + 1) : bytes.Length;
            try
            {
                var read = AnchorRecord.Decode(bytes.AsSpan(0, length), 1, 2, PageTag.Size);
                Assert.True(read.List is null || AnchorRecord.FixedSize + (4L * read.List.Length) <= length, $"case {i}");
            }
            catch (FileSystemCorruptException)
            {
            }
        }
    }
}

using System.Buffers.Binary;
using System.Collections.Immutable;
using Flash.Ffs;
using Flash.Ffs.Format;
using Flash.Ffs.Wear;
using Flash.Tests.PowerLoss;

namespace Flash.Tests.Ffs.Format;

/// <summary>
/// The checkpoint body codec on its own: an image round trips exactly and has the documented layout; a damaged body
/// (bad CRC, truncated, trailing bytes, any field out of range, random mutations with a matching CRC) is refused with
/// <see cref="FileSystemCorruptException"/> naming the first fault, or decodes into an image that encodes and decodes
/// to itself: never another exception.
/// </summary>
public sealed class CheckpointCodecTests
{
    private const int Blocks = 8;
    private const int PagesPerBlock = 16;

    private static CheckpointImage Sample(ushort version = CheckpointCodec.Version) => new(
        version,
        Clean: false,
        Sequence: 0x1122334455,
        NextId: 7,
        NextTxn: 12,
        Hot: new CheckpointHead(2, 5, 3),
        Cold: new CheckpointHead(-1, 0, -1),
        CheckpointNext: 4,
        Blocks: [.. Enumerable.Range(0, Blocks).Select(b => new CheckpointBlock(b switch { 0 or 1 => BlockState.Anchor, 2 => BlockState.Open, 5 => BlockState.Bad, 6 => BlockState.Checkpoint, _ => BlockState.Free }, b == 7, (uint)(b * 3), (ulong)(b * 100)))],
        OpenTransactions: version >= 2 ? [new CheckpointOpenTxn(11, [2, 6])] : [],
        Entries:
        [
            Entry(1, 0, true, ""),
            Entry(2, 1, true, "dir"),
            Entry(3, 2, false, "inline.txt", size: 40, inlinePage: 37, inlineOffset: 112),
            Entry(4, 2, false, "a-rather-long-file-name.bin", size: 9000, extents: [new(0, 32, 3), new(3, 40, 2)]),
            Entry(5, 1, false, "empty-map", extents: []),
            Entry(6, 1, false, "empty"),
            .. version >= CheckpointCodec.LostChunksVersion
                ? new[] { Entry(7, 1, false, "holed", size: 9000, extents: [new(0, 50, 1)], lost: [1, 3]), Entry(8, 1, false, "lost-inline", size: 30, lost: [0]) }
                : [],
        ]);

    private static CheckpointEntry Entry(uint id, uint parent, bool dir, string name, long size = 0, int inlinePage = -1, int inlineOffset = 0, ImmutableArray<CheckpointExtent> extents = default, ImmutableArray<uint> lost = default)
        => new(id, parent, dir, [.. System.Text.Encoding.UTF8.GetBytes(name)], size, id * 10, inlinePage, inlineOffset, extents, lost.IsDefault ? [] : lost);

    private static CheckpointImage Decode(byte[] body) => CheckpointCodec.Decode(body, Crc32C.Compute(body), Blocks, PagesPerBlock);

    /// <summary>Every value of an image as text (records holding arrays compare by reference).</summary>
    private static string Describe(CheckpointImage i) => string.Join('\n',
        new[] { $"v{i.Version} clean {i.Clean} seq {i.Sequence} ids {i.NextId} txns {i.NextTxn} {i.Hot} {i.Cold} next {i.CheckpointNext}" }
            .Concat(i.Blocks.Select(b => b.ToString()))
            .Concat(i.OpenTransactions.Select(t => $"txn {t.Id}: {string.Join(",", t.Blocks)}"))
            .Concat(i.Entries.Select(e => $"{e.Id} {e.Parent} {e.IsDirectory} {Convert.ToHexString(e.Name.AsSpan())} {e.Size} {e.ModificationSequence} {e.InlinePage}@{e.InlineOffset} "
                + (e.IsChunked ? string.Join(",", e.Extents) : "unchunked") + $" lost {string.Join(",", e.Lost)}")));

    [Theory]
    [InlineData(5)]
    [InlineData(4)]
    [InlineData(3)]
    [InlineData(2)]
    [InlineData(1)]
    public void An_image_round_trips(ushort version)
    {
        var image = Sample(version);
        var body = CheckpointCodec.Encode(image);
        var decoded = Decode(body);
        Assert.Equal(Describe(image), Describe(decoded));
        Assert.Equal(body, CheckpointCodec.Encode(decoded));
    }

    [Fact]
    public void A_body_has_the_documented_layout_and_size()
    {
        var image = Sample();
        var body = CheckpointCodec.Encode(image);
        Assert.Equal(CheckpointCodec.Magic, BinaryPrimitives.ReadUInt32LittleEndian(body));
        Assert.Equal("CKPT"u8.ToArray(), body[..4]);
        Assert.Equal(5, BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(4)));
        Assert.Equal(CheckpointCodec.KindBase, body[CheckpointCodec.KindOffset]);
        Assert.Equal(0x1122334455UL, BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(8)));
        Assert.Equal((uint)Blocks, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(24)));
        Assert.Equal(8u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(28)));
        Assert.Equal(4, BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(56)));
        Assert.Equal((byte)BlockState.Anchor, body[CheckpointCodec.HeaderSize]);
        int head = CheckpointCodec.HeadSize(Blocks, CheckpointCodec.OpenTxnListSize(1, 2));
        int entries = image.Entries.Sum(e => CheckpointCodec.EntrySize(e.Name.Length, e.IsInline, e.IsChunked ? e.Extents.Length : -1, e.Lost.Length));
        Assert.Equal(head + entries, body.Length);

        // The last entry: no data (kind 0) with the lost flag, then the count and the chunks.
        Assert.Equal(CheckpointCodec.LostFlag, body[^9]);
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(body.Length - 8)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(body.Length - 4)));
    }

    [Fact]
    public void Malformed_lost_chunk_lists_are_refused_by_name()
    {
        Assert.Contains("a directory", Refused(Sample() with { Entries = [Entry(1, 0, true, "", lost: [0])] }), StringComparison.Ordinal);
        Assert.Contains("out of order", Refused(Sample() with { Entries = [Entry(1, 0, false, "f", size: 9000, lost: [3, 1])] }), StringComparison.Ordinal);
        Assert.Contains("out of order", Refused(Sample() with { Entries = [Entry(1, 0, false, "f", size: 9000, lost: [2, 2])] }), StringComparison.Ordinal);

        // The flag on an inline entry.
        var inline = CheckpointCodec.Encode(Sample() with { Entries = [Entry(1, 0, false, "f", size: 10, inlinePage: 3, inlineOffset: 0)] });
        inline[^7] |= CheckpointCodec.LostFlag;
        Assert.Contains("inline", Assert.Throws<FileSystemCorruptException>(() => Decode(inline)).Message, StringComparison.Ordinal);

        // A count of zero, and a count longer than the body.
        var body = CheckpointCodec.Encode(Sample() with { Entries = [Entry(1, 0, false, "f", size: 10, lost: [0])] });
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(body.Length - 8), 0);
        Assert.Contains("claims 0 lost chunks", Assert.Throws<FileSystemCorruptException>(() => Decode(body)).Message, StringComparison.Ordinal);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(body.Length - 8), 100);
        Assert.Contains("claims 100 lost chunks", Assert.Throws<FileSystemCorruptException>(() => Decode(body)).Message, StringComparison.Ordinal);

        // Version 2 has no lost-chunk lists: the flag is an unknown data kind there.
        var v2 = CheckpointCodec.Encode(Sample(2) with { Entries = [Entry(1, 0, false, "f")] });
        v2[^1] = CheckpointCodec.LostFlag;
        Assert.Contains("unknown data kind", Assert.Throws<FileSystemCorruptException>(() => Decode(v2)).Message, StringComparison.Ordinal);

        static string Refused(CheckpointImage image) => Assert.Throws<FileSystemCorruptException>(() => Decode(CheckpointCodec.Encode(image))).Message;
    }

    [Fact]
    public void A_volume_checkpoint_decodes_and_encodes_again()
    {
        using var dev = FfsTestDevice.Create(seed: 3);
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.CreateDirectory("/d");
        fs.WriteAllBytes("/d/small", FfsTestDevice.Pattern(50, 1));
        fs.WriteAllBytes("/d/large", FfsTestDevice.Pattern(20_000, 2));
        fs.Unmount();
        var image = FlashFileSystem.ReadCheckpointImage(dev);
        Assert.True(image.Clean);
        Assert.Equal(4, image.Entries.Length);
        Assert.Equal(Describe(image), Describe(CheckpointCodec.Decode(CheckpointCodec.Encode(image), Crc32C.Compute(CheckpointCodec.Encode(image)), dev.Geometry.BlockCount, dev.Geometry.PagesPerBlock)));
    }

    [Fact]
    public void A_wrong_crc_is_refused()
    {
        var body = CheckpointCodec.Encode(Sample());
        var ex = Assert.Throws<FileSystemCorruptException>(() => CheckpointCodec.Decode(body, Crc32C.Compute(body) ^ 1, Blocks, PagesPerBlock));
        Assert.Contains("CRC", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_truncation_and_a_trailing_byte_are_refused()
    {
        var body = CheckpointCodec.Encode(Sample());
        for (int length = 0; length < body.Length; length++)
        {
            Assert.Throws<FileSystemCorruptException>(() => Decode(body[..length]));
        }

        var ex = Assert.Throws<FileSystemCorruptException>(() => Decode([.. body, 0]));
        Assert.Contains("trailing", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, int, long, string> Faults => new()
    {
        { "magic", 0, 0x12345678, "magic" },
        { "version 6", 4, 6, "version" },
        { "kind 2", CheckpointCodec.KindOffset, 2, "unknown kind" },
        { "kind delta", CheckpointCodec.KindOffset, 1, "a delta where a base was expected" },
        { "reserved after the kind", CheckpointCodec.KindOffset + 1, 1, "non-zero reserved" },
        { "version 0", 4, 0, "version" },
        { "block count", 24, Blocks + 1, "block count" },
        { "hot block", 32, Blocks, "block 8" },
        { "hot write pointer", 36, PagesPerBlock + 1, "outside its block" },
        { "next checkpoint block", 56, -2, "block -2" },
        { "block state", CheckpointCodec.HeaderSize, 9, "unknown state" },
        { "open transaction id", OpenTxnOffset, 12, "impossible open transaction" },
        { "open transaction block", OpenTxnOffset + 8, Blocks, "block 8" },
        { "entry kind", EntryOffset + 8, 3, "malformed" },
        { "entry id", EntryOffset, 0, "malformed" },
    };

    private static int OpenTxnOffset => CheckpointCodec.HeadSize(Blocks, 0) + 4;

    private static int EntryOffset => CheckpointCodec.HeadSize(Blocks, CheckpointCodec.OpenTxnListSize(1, 2));

    [Theory]
    [MemberData(nameof(Faults))]
    public void A_field_out_of_range_is_refused_by_name(string field, int offset, long value, string message)
    {
        var body = CheckpointCodec.Encode(Sample());
        int width = field switch { "version 6" or "version 0" => 2, "block state" or "entry kind" or "kind 2" or "kind delta" or "reserved after the kind" => 1, _ => 4 };
        for (int k = 0; k < width; k++)
        {
            body[offset + k] = (byte)(value >> (8 * k));
        }

        var ex = Assert.Throws<FileSystemCorruptException>(() => Decode(body));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Entry_data_out_of_range_is_refused()
    {
        Assert.Contains("negative size", Refused(Sample() with { Entries = [Entry(1, 0, true, "", size: -1)] }), StringComparison.Ordinal);
        Assert.Contains("page 128", Refused(Sample() with { Entries = [Entry(1, 0, false, "f", inlinePage: Blocks * PagesPerBlock)] }), StringComparison.Ordinal);
        Assert.Contains("outside the device", Refused(Sample() with { Entries = [Entry(1, 0, false, "f", extents: [new(0, 120, 9)])] }), StringComparison.Ordinal);
        Assert.Contains("outside the device", Refused(Sample() with { Entries = [Entry(1, 0, false, "f", extents: [new(0, 12, 0)])] }), StringComparison.Ordinal);

        var body = CheckpointCodec.Encode(Sample() with { Entries = [Entry(1, 0, true, "")] });
        body[^1] = 7;
        Assert.Contains("unknown data kind", Assert.Throws<FileSystemCorruptException>(() => Decode(body)).Message, StringComparison.Ordinal);

        static string Refused(CheckpointImage image) => Assert.Throws<FileSystemCorruptException>(() => Decode(CheckpointCodec.Encode(image))).Message;
    }

    [Fact]
    public void Mutated_bodies_with_a_matching_crc_are_refused_or_decode_to_an_image_that_round_trips()
        => MutationFuzz.RefusedOrRoundTrips<CheckpointImage>(CheckpointCodec.Encode(Sample()), 0xC4EC, b => Decode(b), i => CheckpointCodec.Encode(i), i => Describe(i));
}

using System.Buffers.Binary;
using System.Collections.Immutable;
using Flash.Ffs;
using Flash.Ffs.Format;
using Flash.Ffs.Wear;
using Flash.Tests.PowerLoss;

namespace Flash.Tests.Ffs.Format;

/// <summary>
/// Delta checkpoint bodies (format 5) on their own: a delta round trips exactly and has the documented layout;
/// applied to its base it gives the base with the changed blocks and entries replaced and the deleted entries gone;
/// a damaged delta (bad CRC, truncated, trailing bytes, any field out of range, random mutations with a matching CRC)
/// is refused with <see cref="FileSystemCorruptException"/> naming the first fault, or decodes to a delta that
/// encodes to itself; a base is not taken for a delta nor a delta for a base.
/// </summary>
public sealed class CheckpointDeltaCodecTests
{
    private const int Blocks = 8;
    private const int PagesPerBlock = 16;

    private static CheckpointImage Base() => new(
        CheckpointCodec.Version,
        Clean: false,
        Sequence: 500,
        NextId: 6,
        NextTxn: 3,
        Hot: new CheckpointHead(2, 5, 3),
        Cold: new CheckpointHead(-1, 0, -1),
        CheckpointNext: 4,
        Blocks: [.. Enumerable.Range(0, Blocks).Select(b => new CheckpointBlock(b switch { 0 or 1 => BlockState.Anchor, 2 => BlockState.Open, 6 => BlockState.Checkpoint, _ => BlockState.Free }, b == 7, (uint)b, (ulong)(b * 10)))],
        OpenTransactions: [],
        Entries: [Entry(1, 0, true, ""), Entry(2, 1, false, "a", size: 10, inlinePage: 33, inlineOffset: 4), Entry(3, 1, false, "b", size: 5000, extents: [new(0, 40, 3)]), Entry(5, 1, true, "d")]);

    private static CheckpointDelta Delta() => new(
        new CheckpointHeader(Clean: true, Sequence: 900, NextId: 9, NextTxn: 5, new CheckpointHead(3, 1, 4), new CheckpointHead(5, 16, -1), CheckpointNext: 7),
        Blocks,
        new CheckpointBaseRef(500, 1234, 0xDEADBEEF, 1, [6]),
        [(3, new CheckpointBlock(BlockState.Open, false, 4, 800)), (5, new CheckpointBlock(BlockState.Full, false, 6, 700))],
        [new CheckpointOpenTxn(4, [3, 5])],
        [Entry(3, 5, false, "b2", size: 9000, extents: [new(0, 50, 2)], lost: [2]), Entry(8, 1, false, "new")],
        [2, 7]);

    private static CheckpointEntry Entry(uint id, uint parent, bool dir, string name, long size = 0, int inlinePage = -1, int inlineOffset = 0, ImmutableArray<CheckpointExtent> extents = default, ImmutableArray<uint> lost = default)
        => new(id, parent, dir, [.. System.Text.Encoding.UTF8.GetBytes(name)], size, id * 10, inlinePage, inlineOffset, extents, lost.IsDefault ? [] : lost);

    private static CheckpointDelta Decode(byte[] body) => CheckpointCodec.DecodeDelta(body, Crc32C.Compute(body), Blocks, PagesPerBlock);

    private static string Describe(CheckpointDelta d) => string.Join('\n',
        new[] { $"{d.Header} base {d.Base.Sequence} {d.Base.Length} {d.Base.Crc} {d.Base.PageCount} {string.Join(",", d.Base.Blocks)}" }
            .Concat(d.ChangedBlocks.Select(c => $"{c.Block}: {c.Entry}"))
            .Concat(d.OpenTransactions.Select(t => $"txn {t.Id}: {string.Join(",", t.Blocks)}"))
            .Concat(d.Entries.Select(EntryText))
            .Append("deleted " + string.Join(",", d.Deleted)));

    private static string EntryText(CheckpointEntry e) => $"{e.Id} {e.Parent} {e.IsDirectory} {Convert.ToHexString(e.Name.AsSpan())} {e.Size} {e.InlinePage}@{e.InlineOffset} "
        + (e.IsChunked ? string.Join(",", e.Extents) : "unchunked") + $" lost {string.Join(",", e.Lost)}";

    [Fact]
    public void A_delta_round_trips_and_has_the_documented_layout()
    {
        var delta = Delta();
        var body = CheckpointCodec.EncodeDelta(delta);
        Assert.True(CheckpointCodec.IsDelta(body));
        var decoded = Decode(body);
        Assert.Equal(Describe(delta), Describe(decoded));
        Assert.Equal(body, CheckpointCodec.EncodeDelta(decoded));

        Assert.Equal(CheckpointCodec.Magic, BinaryPrimitives.ReadUInt32LittleEndian(body));
        Assert.Equal(CheckpointCodec.Version, BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(4)));
        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(6)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(28)));
        Assert.Equal(CheckpointCodec.KindDelta, body[CheckpointCodec.KindOffset]);
        Assert.Equal(500UL, BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(64)));
        Assert.Equal(1234u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(72)));
        Assert.Equal(0xDEADBEEFu, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(76)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(80)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(84)));
        Assert.Equal(6, BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(88)));
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(92)));
        Assert.Equal(3, BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(96)));
        Assert.Equal((byte)BlockState.Open, body[100]);
        int head = CheckpointCodec.DeltaHeadSize(1, 2, CheckpointCodec.OpenTxnListSize(1, 2));
        int entries = delta.Entries.Sum(e => CheckpointCodec.EntrySize(e.Name.Length, e.IsInline, e.IsChunked ? e.Extents.Length : -1, e.Lost.Length));
        Assert.Equal(head + entries + CheckpointCodec.DeletedListSize(2), body.Length);
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(body.Length - 12)));
        Assert.Equal(7u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(body.Length - 4)));
    }

    [Fact]
    public void A_delta_applied_to_its_base_replaces_what_changed_and_drops_what_was_deleted()
    {
        var image = Delta().Apply(Base());
        Assert.Equal(900UL, image.Sequence);
        Assert.True(image.Clean);
        Assert.Equal((9u, 5u, 7), (image.NextId, image.NextTxn, image.CheckpointNext));
        Assert.Equal(new CheckpointHead(3, 1, 4), image.Hot);
        Assert.Equal(new CheckpointBlock(BlockState.Open, false, 4, 800), image.Blocks[3]);
        Assert.Equal(new CheckpointBlock(BlockState.Full, false, 6, 700), image.Blocks[5]);
        Assert.Equal(Base().Blocks[6], image.Blocks[6]);
        Assert.Equal([1u, 3u, 5u, 8u], image.Entries.Select(e => e.Id));
        Assert.Equal(EntryText(Delta().Entries[0]), EntryText(image.Entries[1]));
        Assert.Single(image.OpenTransactions);

        // Not its base: refused.
        var ex = Assert.Throws<FileSystemCorruptException>(() => Delta().Apply(Base() with { Sequence = 501 }));
        Assert.Contains("base", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_base_is_not_a_delta_and_a_delta_is_not_a_base()
    {
        var baseBody = CheckpointCodec.Encode(Base());
        Assert.False(CheckpointCodec.IsDelta(baseBody));
        Assert.Contains("not a delta", Assert.Throws<FileSystemCorruptException>(() => Decode(baseBody)).Message, StringComparison.Ordinal);
        var deltaBody = CheckpointCodec.EncodeDelta(Delta());
        var ex = Assert.Throws<FileSystemCorruptException>(() => CheckpointCodec.Decode(deltaBody, Crc32C.Compute(deltaBody), Blocks, PagesPerBlock));
        Assert.Contains("delta", ex.Message, StringComparison.Ordinal);

        // A version-4 body never is one, whatever its reserved bytes hold.
        var v4 = CheckpointCodec.Encode(Base() with { Version = 4 });
        v4[CheckpointCodec.KindOffset] = CheckpointCodec.KindDelta;
        Assert.False(CheckpointCodec.IsDelta(v4));
    }

    [Fact]
    public void A_wrong_crc_every_truncation_and_a_trailing_byte_are_refused()
    {
        var body = CheckpointCodec.EncodeDelta(Delta());
        Assert.Contains("CRC", Assert.Throws<FileSystemCorruptException>(() => CheckpointCodec.DecodeDelta(body, Crc32C.Compute(body) ^ 1, Blocks, PagesPerBlock)).Message, StringComparison.Ordinal);
        for (int length = 0; length < body.Length; length++)
        {
            Assert.Throws<FileSystemCorruptException>(() => Decode(body[..length]));
        }

        Assert.Contains("trailing", Assert.Throws<FileSystemCorruptException>(() => Decode([.. body, 0])).Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, int, int, long, string> Faults => new()
    {
        { "version 4", 4, 2, 4, "version" },
        { "kind 2", CheckpointCodec.KindOffset, 1, 2, "unknown kind" },
        { "block count", 24, 4, Blocks + 1, "block count" },
        { "base sequence above its own", 64, 8, 901, "base reference" },
        { "base page count 0", 80, 4, 0, "base reference" },
        { "base block count", 84, 4, 2, "base reference" },
        { "base block", 88, 4, Blocks, "block 8" },
        { "changed block count", 92, 4, Blocks + 1, "changed blocks" },
        { "changed block number", 96, 4, Blocks, "block 8" },
        { "changed blocks out of order", 96 + CheckpointCodec.ChangedBlockSize, 4, 3, "out of order" },
        { "changed block state", 100, 1, 9, "unknown state" },
        { "open transaction id", OpenTxnOffset, 4, 5, "impossible open transaction" },
        { "entry id", EntryOffset, 4, 0, "malformed" },
        { "entry id duplicated", EntryOffset + SecondEntry, 4, 3, "duplicated" },
    };

    private static int OpenTxnOffset => CheckpointCodec.DeltaHeadSize(1, 2, 0) + 4;

    private static int EntryOffset => CheckpointCodec.DeltaHeadSize(1, 2, CheckpointCodec.OpenTxnListSize(1, 2));

    private static int SecondEntry => CheckpointCodec.EntrySize(2, false, 1, 1);

    [Theory]
    [MemberData(nameof(Faults))]
    public void A_field_out_of_range_is_refused_by_name(string field, int offset, int width, long value, string message)
    {
        _ = field;
        var body = CheckpointCodec.EncodeDelta(Delta());
        for (int k = 0; k < width; k++)
        {
            body[offset + k] = (byte)(value >> (8 * k));
        }

        Assert.Contains(message, Assert.Throws<FileSystemCorruptException>(() => Decode(body)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_deleted_lists_are_refused_by_name()
    {
        Assert.Contains("out of order", Refused(Delta() with { Deleted = [7, 2] }), StringComparison.Ordinal);
        Assert.Contains("zero", Refused(Delta() with { Deleted = [0, 2] }), StringComparison.Ordinal);
        Assert.Contains("also listed as changed", Refused(Delta() with { Deleted = [3] }), StringComparison.Ordinal);
        var body = CheckpointCodec.EncodeDelta(Delta());
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(body.Length - 12), 100);
        Assert.Contains("claims 100 deleted", Assert.Throws<FileSystemCorruptException>(() => Decode(body)).Message, StringComparison.Ordinal);

        static string Refused(CheckpointDelta delta) => Assert.Throws<FileSystemCorruptException>(() => Decode(CheckpointCodec.EncodeDelta(delta))).Message;
    }

    [Fact]
    public void Mutated_deltas_with_a_matching_crc_are_refused_or_decode_to_a_delta_that_round_trips()
        => MutationFuzz.RefusedOrRoundTrips<CheckpointDelta>(CheckpointCodec.EncodeDelta(Delta()), 0xDE17A, b => Decode(b), d => CheckpointCodec.EncodeDelta(d), d => Describe(d));
}

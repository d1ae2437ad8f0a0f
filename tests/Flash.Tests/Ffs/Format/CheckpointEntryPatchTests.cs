using System.Buffers.Binary;
using System.Collections.Immutable;
using Flash.Ffs;
using Flash.Ffs.Checkpoint;
using Flash.Ffs.Format;
using Flash.Ffs.Wear;

namespace Flash.Tests.Ffs.Format;

/// <summary>
/// Entry patches of delta checkpoints (format 5): a patch round trips and has the documented layout (id, marker
/// 0xFFFFFFFF, size, sequence, runs of first chunk, page or -1, count); applied to its base entry it gives the base's
/// extents with the runs replaced, merged; a patch whose base entry is missing or not a chunked file, and a damaged
/// patch, are refused; the choice between patch and whole entry and the changed-chunk runs are pure.
/// </summary>
public sealed class CheckpointEntryPatchTests
{
    private const int Blocks = 8;
    private const int PagesPerBlock = 16;

    private static CheckpointEntry File(uint id, ImmutableArray<CheckpointExtent> extents, bool dir = false, int inlinePage = -1)
        => new(id, 1, dir, [.. "f"u8.ToArray()], 4096, 7, inlinePage, 0, extents, []);

    private static CheckpointImage Base() => new(
        CheckpointCodec.Version, false, 500, 9, 3, new CheckpointHead(2, 5, 3), new CheckpointHead(-1, 0, -1), 4,
        [.. Enumerable.Range(0, Blocks).Select(b => new CheckpointBlock(b == 6 ? BlockState.Checkpoint : BlockState.Free, false, (uint)b, 0))],
        [],
        [File(1, default, dir: true), File(3, [new(0, 40, 10)]), File(4, [new(0, 60, 4), new(8, 70, 2)]), File(5, default, inlinePage: 20)]);

    private static CheckpointDelta Delta(params CheckpointEntryPatch[] patches) => new(
        new CheckpointHeader(false, 900, 9, 3, new CheckpointHead(3, 1, 4), new CheckpointHead(-1, 0, -1), 7),
        Blocks,
        new CheckpointBaseRef(500, 1234, 0xDEADBEEF, 1, [6]),
        [],
        [],
        [File(8, [new(0, 90, 1)])],
        [2],
        [.. patches]);

    private static CheckpointEntryPatch Patch3 => new(3, 9000, 42, [new(2, 100, 2), new(5, -1, 1), new(12, 110, 3)]);

    private static CheckpointDelta Decode(byte[] body) => CheckpointCodec.DecodeDelta(body, Crc32C.Compute(body), Blocks, PagesPerBlock);

    private static string Text(CheckpointEntry e) => $"{e.Id} {e.Size} {e.ModificationSequence} {string.Join(",", e.Extents)} lost {e.Lost.Length}";

    [Fact]
    public void A_patch_round_trips_and_has_the_documented_layout()
    {
        var delta = Delta(Patch3);
        var body = CheckpointCodec.EncodeDelta(delta);
        var decoded = Decode(body);
        Assert.Single(decoded.Entries);
        var p = Assert.Single(decoded.PatchList);
        Assert.Equal((3u, 9000L, 42UL), (p.Id, p.Size, p.ModificationSequence));
        Assert.Equal(Patch3.Runs, p.Runs);
        Assert.Equal(body, CheckpointCodec.EncodeDelta(decoded));

        // Header counts both records; the patch sits after the whole entry, before the deleted list.
        Assert.Equal(2u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(28)));
        int at = body.Length - CheckpointCodec.DeletedListSize(1) - CheckpointEntryPatch.SizeOf(3);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(at)));
        Assert.Equal(0xFFFFFFFFu, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(at + 4)));
        Assert.Equal(9000L, BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(at + 8)));
        Assert.Equal(42UL, BinaryPrimitives.ReadUInt64LittleEndian(body.AsSpan(at + 16)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(at + 24)));
        Assert.Equal(5u, BinaryPrimitives.ReadUInt32LittleEndian(body.AsSpan(at + 28 + 12)));
        Assert.Equal(-1, BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(at + 28 + 16)));
        Assert.Equal(1, BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(at + 28 + 20)));

        // A patch of no runs (size and sequence only) round trips too.
        var empty = Decode(CheckpointCodec.EncodeDelta(Delta(new CheckpointEntryPatch(4, 1, 2, []))));
        Assert.Empty(Assert.Single(empty.PatchList).Runs);
    }

    [Fact]
    public void Applied_to_its_base_a_patch_replaces_the_changed_runs_and_merges_what_continues()
    {
        var image = Delta(Patch3, new CheckpointEntryPatch(4, 100, 8, [new(4, 64, 4), new(9, -1, 5)])).Apply(Base());
        var e3 = image.Entries.Single(e => e.Id == 3);
        Assert.Equal("3 9000 42 " + string.Join(",", new CheckpointExtent[] { new(0, 40, 2), new(2, 100, 2), new(4, 44, 1), new(6, 46, 4), new(12, 110, 3) }) + " lost 0", Text(e3));
        Assert.Equal(Base().Entries[1].Name, e3.Name);
        Assert.Equal(Base().Entries[1].Parent, e3.Parent);

        // 0..3 at 60 and 4..7 at 64 continue each other: one extent; 9 unmapped.
        var e4 = image.Entries.Single(e => e.Id == 4);
        Assert.Equal([new CheckpointExtent(0, 60, 8), new CheckpointExtent(8, 70, 1)], e4.Extents);
        Assert.Equal([1u, 3u, 4u, 5u, 8u], image.Entries.Select(e => e.Id));
    }

    [Theory]
    [InlineData(7u)] // missing
    [InlineData(1u)] // a directory
    [InlineData(5u)] // inline
    public void A_patch_of_an_entry_the_base_lacks_as_a_chunked_file_is_refused(uint id)
    {
        var ex = Assert.Throws<FileSystemCorruptException>(() => Delta(new CheckpointEntryPatch(id, 1, 1, [new(0, 30, 1)])).Apply(Base()));
        Assert.Contains($"patches entry {id}", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, int, int, long, string> Faults => new()
    {
        { "run count", 24, 4, 100000, "malformed" },
        { "zero id", 0, 4, 0, "malformed" },
        { "negative size", 8, 8, -1, "malformed" },
        { "page outside", 28 + 4, 4, Blocks * PagesPerBlock, "does not exist" },
        { "zero run", 28 + 8, 4, 0, "run out of order" },
        { "runs out of order", 28 + 12, 4, 1, "run out of order" },
        { "run past the device", 28 + 24 + 8, 4, 200, "run out of order" },
        { "duplicated id", 0, 4, 8, "duplicated" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public void A_damaged_patch_is_refused_by_name(string field, int offset, int width, long value, string message)
    {
        _ = field;
        var body = CheckpointCodec.EncodeDelta(Delta(Patch3));
        int at = body.Length - CheckpointCodec.DeletedListSize(1) - CheckpointEntryPatch.SizeOf(3) + offset;
        for (int k = 0; k < width; k++)
        {
            body[at + k] = (byte)(value >> (8 * k));
        }

        Assert.Contains(message, Assert.Throws<FileSystemCorruptException>(() => Decode(body)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_truncation_of_a_delta_with_a_patch_is_refused()
    {
        var body = CheckpointCodec.EncodeDelta(Delta(Patch3));
        for (int length = 0; length < body.Length; length++)
        {
            Assert.Throws<FileSystemCorruptException>(() => Decode(body[..length]));
        }
    }

    [Theory]
    [InlineData(true, 0, 40, true)]
    [InlineData(true, 1, 40, true)]     // 40 B against 40 B: whole
    [InlineData(true, 2, 100, true)]
    [InlineData(true, 1, 39, false)]
    [InlineData(false, 0, 1000, false)]
    [InlineData(true, 100, 1000, false)]
    public void Patch_or_whole_is_the_smaller(bool patchable, int runs, int whole, bool patch)
        => Assert.Equal(patch && CheckpointEntryPatch.SizeOf(runs) < whole, CheckpointEntryPatch.Choose(patchable, runs, whole));

    [Fact]
    public void Changed_chunks_merge_into_sorted_disjoint_runs()
    {
        var c = new ChangedChunks();
        c.Add(10, 11);
        c.Add(3, 5);
        c.Add(20, 30);
        c.Add(11, 12);   // touches 10..11
        c.Add(5, 6);     // touches 3..5
        Assert.Equal([(3u, 6u), (10u, 12u), (20u, 30u)], c.Runs);
        c.Add(4, 25);
        Assert.Equal([(3u, 30u)], c.Runs);
        c.Add(40, 40);
        Assert.Single(c.Runs);
        Assert.True(ChangedChunks.WholeEntry.Whole);
    }
}

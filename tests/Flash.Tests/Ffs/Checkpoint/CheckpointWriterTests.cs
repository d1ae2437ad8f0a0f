using Flash.Drivers;
using Flash.Ffs.Checkpoint;
using Flash.Ffs.Wear;
using Xunit;

namespace Flash.Tests.Ffs.Checkpoint;

/// <summary>
/// The checkpoint writer on its own (see <see cref="CheckpointHarness"/>): a full checkpoint becomes current only when
/// its anchor page is programmed, and its predecessor's blocks stay intact until then; an incremental one, written in
/// slices while the index changes, holds what a full one taken at its start holds; an abandoned one leaves the
/// previous one current.
/// </summary>
public sealed class CheckpointWriterTests
{
    /// <summary>A harness with a first checkpoint of 40 files written, and 10 more files added since.</summary>
    private static CheckpointHarness WithFirstCheckpoint()
    {
        var h = new CheckpointHarness();
        h.AddFiles(40);
        h.Writer.Write(forUnmount: false);
        h.AddFiles(10);
        return h;
    }

    [Fact]
    public void A_full_checkpoint_is_current_only_once_its_anchor_is_programmed_and_its_predecessor_stays_intact_until_then()
    {
        var reference = WithFirstCheckpoint();
        var first = CheckpointHarness.Entries(reference.CurrentImage());
        ulong firstSeq = reference.Writer.Sequence;
        var firstBlocks = reference.Writer.Pages.Select(p => p / CheckpointHarness.PagesPerBlock).Distinct().ToArray();
        Assert.All(firstBlocks, b => Assert.Equal(BlockState.Checkpoint, reference.Pool.Table.State[b]));
        long before = reference.Device.MutationCount;
        reference.Writer.Write(forUnmount: false);
        long mutations = reference.Device.MutationCount - before;
        var second = CheckpointHarness.Entries(reference.CurrentImage());
        Assert.NotEqual(first, second);

        // Committed: the second is a delta over the first (format 5), whose blocks stay claimed as its base, and the
        // writer points at it.
        Assert.True(reference.Writer.CurrentIsDelta);
        Assert.All(firstBlocks, b => Assert.Equal(BlockState.Checkpoint, reference.Pool.Table.State[b]));
        Assert.True(reference.Writer.Sequence > firstSeq);
        Assert.Equal(2, reference.Committed);
        var deltaBlocks = reference.Writer.Pages.Skip(reference.Writer.Pages.Count - 1).Select(p => p / CheckpointHarness.PagesPerBlock).ToArray();

        // A third (another delta over the same base) releases the second's blocks, not the base's.
        reference.AddFiles(3);
        reference.Writer.Write(forUnmount: false);
        Assert.True(reference.Writer.CurrentIsDelta);
        Assert.All(firstBlocks, b => Assert.Equal(BlockState.Checkpoint, reference.Pool.Table.State[b]));
        Assert.All(deltaBlocks, b => Assert.Equal(BlockState.Free, reference.Pool.Table.State[b]));

        // A power cut at each program or erase of the second checkpoint: until the anchor page (the last program) is
        // programmed, the first one is current and reads back whole; afterwards the second one is.
        for (long cut = 1; cut <= mutations; cut++)
        {
            var h = WithFirstCheckpoint();
            h.Device.CutPowerAfter(cut);
            Assert.Throws<PowerLossException>(() => h.Writer.Write(forUnmount: false));
            h.Device.PowerUp();
            var image = h.CurrentImage();
            Assert.Equal(firstSeq, image.Sequence);
            Assert.Equal(first, CheckpointHarness.Entries(image));
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(3, false)]
    [InlineData(1, true)]
    [InlineData(3, true)]
    public void An_incremental_checkpoint_written_in_slices_while_the_index_changes_equals_a_full_one_taken_at_its_start(int seed, bool delta)
    {
        // Two identical volumes: one takes a full checkpoint at S0, the other an incremental one from S0 (a base, or
        // a delta over the first checkpoint: the entries changed since it, one a slice).
        var full = WithFirstCheckpoint();
        var incremental = WithFirstCheckpoint();
        full.Writer.DeltasAllowed = incremental.Writer.DeltasAllowed = delta;
        full.Writer.Write(forUnmount: false);
        var expected = CheckpointHarness.Entries(full.CurrentImage());

        Assert.True(incremental.Writer.Begin());
        ulong s0 = incremental.Writer.Pending!.Sequence;
        var files = incremental.Index.Nodes.Values.Where(n => !n.IsDirectory).ToList();
        var rng = new Random(seed);
        int slices = 0;
        while (incremental.Writer.Pending is not null)
        {
            // Changes between slices, through the index (whose observer the writer is): entries not yet written are
            // written first, as they were at S0; new entries are not part of it.
            var node = files[rng.Next(files.Count)];
            switch (rng.Next(4))
            {
                case 0:
                    incremental.Index.SetSize(node, node.Size + 1);
                    break;
                case 1:
                    incremental.Index.SetChunk(node, 7, 900 + slices);
                    break;
                case 2:
                    incremental.Index.Move(node, incremental.Root, $"r{slices:D4}");
                    break;
                default:
                    if (node.Id % 2 == 0)
                    {
                        incremental.Index.Remove(node);
                        files.Remove(node);
                    }
                    else
                    {
                        incremental.Create($"n{slices:D4}");
                    }

                    break;
            }

            int entries = delta ? 1 : 4;
            incremental.Writer.Advance(1, () => entries-- > 0);
            slices++;
        }

        Assert.Equal(1, incremental.Writer.IncrementalCheckpointsCommitted);
        Assert.Equal(delta, incremental.Writer.CurrentIsDelta);
        Assert.Same(incremental.Writer, incremental.Index.Observer);
        Assert.True(slices > 8, $"only {slices} slices");
        var image = incremental.CurrentImage();
        Assert.Equal(s0, image.Sequence);
        Assert.False(image.Clean);
        Assert.Equal(expected, CheckpointHarness.Entries(image));
    }

    [Fact]
    public void Abandoning_an_incremental_checkpoint_leaves_the_previous_one_current()
    {
        var h = WithFirstCheckpoint();
        var first = CheckpointHarness.Entries(h.CurrentImage());
        ulong firstSeq = h.Writer.Sequence;
        var firstPages = h.Writer.Pages;

        Assert.True(h.Writer.Begin());
        Assert.Same(h.Writer, h.Index.Observer);
        var pending = h.Writer.Pending!;
        int failing = (pending.Targets[0] * CheckpointHarness.PagesPerBlock) + pending.Written.Count;
        h.Device.ScheduleProgramFailure(failing);
        h.Writer.Advance(int.MaxValue, () => true);

        Assert.Null(h.Writer.Pending);
        Assert.Same(h.Writer, h.Index.Observer);
        Assert.Equal(0, h.Writer.IncrementalCheckpointsCommitted);
        Assert.Equal(firstSeq, h.Writer.Sequence);
        Assert.Same(firstPages, h.Writer.Pages);
        Assert.Equal(BlockState.Bad, h.Pool.Table.State[failing / CheckpointHarness.PagesPerBlock]);
        Assert.All(firstPages.Select(p => p / CheckpointHarness.PagesPerBlock).Distinct(), b => Assert.Equal(BlockState.Checkpoint, h.Pool.Table.State[b]));
        Assert.Equal(first, CheckpointHarness.Entries(h.CurrentImage()));

        // The next checkpoint commits over it.
        h.Writer.Write(forUnmount: false);
        Assert.True(h.Writer.Sequence > firstSeq);
        Assert.Equal(h.Index.Nodes.Count, h.CurrentImage().Entries.Length);
    }
}

using Flash.Ffs.Checkpoint;
using Xunit;

namespace Flash.Tests.Ffs.Checkpoint;

/// <summary>
/// A delta whose changed files are recorded as entry patches (format 5), mounted as base plus delta, gives what a base
/// written from the same RAM index gives: entry for entry, chunk for chunk.
/// </summary>
public sealed class EntryPatchEquivalenceTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_base_plus_a_patch_delta_equals_the_ram_index(bool incremental)
    {
        var h = new CheckpointHarness();
        var files = h.AddFiles(8, chunks: 40);
        h.Writer.Write(forUnmount: false);
        Assert.False(h.Writer.CurrentIsDelta);

        // Chunks remapped (a run, scattered, a growth past the end), unmapped, a truncation, a size change only.
        for (uint c = 5; c < 9; c++)
        {
            h.Index.SetChunk(files[0], c, 900 + (int)c);
        }

        h.Index.SetChunk(files[1], 3, 950);
        h.Index.SetChunk(files[1], 30, 951);
        h.Index.SetChunk(files[2], 44, 960);
        h.Index.SetSize(files[2], 45 * 2048L);
        h.Index.RemoveChunk(files[3], 10);
        h.Index.TruncateChunks(files[4], 20, null);
        h.Index.SetSize(files[4], 20 * 2048L);
        h.Index.SetSize(files[5], 39 * 2048L);
        h.Index.Move(files[6], h.Root, "renamed");    // written whole
        long before = h.Writer.EntryPatchesWritten;
        int original = -1;
        if (incremental)
        {
            Assert.True(h.Writer.Begin());

            // Copy-on-write of a patched entry: it changes again before its turn.
            original = files[1].Chunks!.Get(31);
            h.Index.SetChunk(files[1], 31, 970);
            while (h.Writer.Pending is not null)
            {
                h.Writer.Advance(1, () => true);
            }
        }
        else
        {
            h.Writer.Write(forUnmount: false);
        }

        Assert.True(h.Writer.CurrentIsDelta);
        Assert.Equal(6, h.Writer.EntryPatchesWritten - before);
        var fromDelta = CheckpointHarness.Entries(h.CurrentImage());

        if (incremental)
        {
            // The delta described the index at its start: undo the change made while it was written.
            h.Index.SetChunk(files[1], 31, original);
        }

        h.Writer.DeltasAllowed = false;
        h.Writer.Write(forUnmount: false);
        Assert.False(h.Writer.CurrentIsDelta);
        Assert.Equal(CheckpointHarness.Entries(h.CurrentImage()), fromDelta);
    }
}

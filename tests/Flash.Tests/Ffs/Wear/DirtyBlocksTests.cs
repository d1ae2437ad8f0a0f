using Flash.Ffs.Wear;

namespace Flash.Tests.Ffs.Wear;

/// <summary>
/// The dirty bitmap a delta checkpoint walks to find the block-table entries it lists (issue 19): the bitmap answers
/// as a bool array would, and the block table reports every change to a field a checkpoint records (state, erased
/// flag, erase count, first sequence), so a block whose recorded entry differs from a snapshot always has its bit set.
/// </summary>
public sealed class DirtyBlocksTests
{
    [Theory]
    [InlineData(1, 1_000)] // not a multiple of 64: the last word is partial
    [InlineData(2, 64)]
    [InlineData(3, 16_384)]
    public void AgreesWithABoolArrayModel(int seed, int blocks)
    {
        var rng = new Random(seed);
        var dirty = new DirtyBlocks(blocks);
        var model = new bool[blocks];
        var listed = new List<int>();
        for (int round = 0; round < 20; round++)
        {
            int sets = rng.Next(round % 3 == 0 ? 3 : blocks / 4);
            for (int i = 0; i < sets; i++)
            {
                int b = rng.Next(blocks);
                dirty.Set(b);
                model[b] = true;
            }

            listed.Clear();
            dirty.AppendSet(listed);
            var expected = Enumerable.Range(0, blocks).Where(b => model[b]).ToList();
            Assert.Equal(expected, listed);
            Assert.Equal(expected.Count, dirty.Count());
            int probe = rng.Next(blocks);
            Assert.Equal(model[probe], dirty[probe]);
            Assert.True(dirty[blocks - 1] == model[blocks - 1]);

            if (round % 4 == 3)
            {
                dirty.Clear();
                Array.Clear(model);
                Assert.Equal(0, dirty.Count());
            }
        }
    }

    [Fact]
    public void AppendSetAppendsAfterWhatTheListHolds()
    {
        var dirty = new DirtyBlocks(200);
        dirty.Set(199);
        dirty.Set(0);
        dirty.Set(63);
        dirty.Set(64);
        dirty.Set(64);
        var list = new List<int> { -1 };
        dirty.AppendSet(list);
        Assert.Equal([-1, 0, 63, 64, 199], list);
    }

    [Fact]
    public void OutOfRangeBlocksThrow()
    {
        var dirty = new DirtyBlocks(100);
        Assert.Throws<ArgumentOutOfRangeException>(() => dirty.Set(100));
        Assert.Throws<ArgumentOutOfRangeException>(() => dirty.Set(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => dirty[100]);
        Assert.Equal(0, new DirtyBlocks(0).Count());
    }

    [Fact]
    public void CostsOneBitABlock()
    {
        long big = new DirtyBlocks(16_384).RamBytes, small = new DirtyBlocks(8_192).RamBytes;
        Assert.Equal(8_192 / 8, big - small);
    }

    [Fact]
    public void EveryRecordedFieldReportsItsChangesAndNothingElseDoes()
    {
        var table = new BlockTable(10, 64);
        var seen = new Recorder();
        table.RecordObserver = seen;

        table.State.Apply(1, BlockTransition.Open);
        table.Erased[2] = true;
        table.EraseCount[3]++;
        table.FirstSequence[4] = 77;
        Assert.Equal([1, 2, 3, 4], seen.Blocks);

        // Setting a field to the value it holds changes nothing recorded.
        seen.Blocks.Clear();
        table.Erased[2] = true;
        table.EraseCount[3] = 1;
        table.FirstSequence[4] = 77;
        table.State.Restore(1, BlockState.Open);
        Assert.Empty(seen.Blocks);

        // Fields a checkpoint does not record are not reported.
        table.LastSequence[5] = 99;
        table.SetValid(6 * 64);
        table.Written[6] = 3;
        table.Pinned[7] = 1;
        table.Held[7] = 1;
        table.MarkEmptied(8);
        table.ClearBlock(6);
        Assert.Empty(seen.Blocks);

        table.State.Restore(9, BlockState.Bad);
        Assert.Equal([9], seen.Blocks);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryBlockWhoseRecordedEntryDiffersFromASnapshotIsDirty(int seed)
    {
        const int Blocks = 300;
        var rng = new Random(seed);
        var table = new BlockTable(Blocks, 64);
        var dirty = new DirtyBlocks(Blocks);
        table.RecordObserver = new Marker(dirty);
        for (int round = 0; round < 50; round++)
        {
            var snapshot = Enumerable.Range(0, Blocks).Select(b => Entry(table, b)).ToArray();
            dirty.Clear();
            int steps = rng.Next(round % 5 == 0 ? 2 : 400);
            for (int i = 0; i < steps; i++)
            {
                int b = rng.Next(Blocks);
                switch (rng.Next(6))
                {
                    case 0: table.State.Restore(b, (BlockState)rng.Next(7)); break;
                    case 1: table.Erased[b] = rng.Next(2) == 0; break;
                    case 2: table.EraseCount[b]++; break;
                    case 3: table.FirstSequence[b] = (ulong)rng.Next(1_000); break;
                    case 4: table.LastSequence[b] = (ulong)rng.Next(1_000); break;
                    default:
                        // Changed and changed back: may be listed, never missed.
                        uint count = table.EraseCount[b];
                        table.EraseCount[b] = count + 5;
                        table.EraseCount[b] = count;
                        break;
                }
            }

            for (int b = 0; b < Blocks; b++)
            {
                if (Entry(table, b) != snapshot[b])
                {
                    Assert.True(dirty[b], $"block {b} changed but is not dirty");
                }
            }
        }
    }

    private static (BlockState, bool, uint, ulong) Entry(BlockTable t, int b) => (t.State[b], t.Erased[b], t.EraseCount[b], t.FirstSequence[b]);

    private sealed class Recorder : IBlockRecordObserver
    {
        public List<int> Blocks { get; } = [];

        public void RecordChanged(int block) => Blocks.Add(block);
    }

    private sealed class Marker(DirtyBlocks dirty) : IBlockRecordObserver
    {
        public void RecordChanged(int block) => dirty.Set(block);
    }
}

using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Blocks;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Ffs.Wear;

/// <summary>
/// Garbage collection on its own over a block pool, with the log and the checkpoint as fakes: it moves live pages
/// through <see cref="IGcLog"/>, returns emptied blocks to the pool, and asks for a checkpoint through
/// <see cref="ICheckpointTrigger"/> only when the garbage cannot move before one.
/// </summary>
public sealed class GarbageCollectorTests
{
    private const int Blocks = 16;
    private const int PagesPerBlock = 8;
    private const int Reserve = 4;

    [Fact]
    public void Garbage_younger_than_the_last_checkpoint_makes_collection_ask_for_one_and_then_reclaim()
    {
        var (pool, gc, log, checkpoints) = Filled(fullBlocks: 13, livePagesEach: 2);
        Assert.Equal(3, pool.FreeCount);

        gc.MakeRoom(pages: PagesPerBlock, hotRoom: 0, firmwareIdle: false);

        Assert.Equal(1, checkpoints.Written);
        Assert.Equal(0, checkpoints.Finished);
        Assert.True(pool.FreeCount - 1 >= Reserve);
        Assert.Equal(pool.FreeCount - 3, gc.BlocksReclaimed);
        Assert.Equal(2 * gc.BlocksReclaimed, log.Relocated.Count);
        Assert.All(log.Relocated, p => Assert.False(pool.Table.IsValid(p)));
    }

    [Fact]
    public void A_checkpoint_in_progress_is_finished_before_a_new_one_is_asked_for()
    {
        var (pool, gc, _, checkpoints) = Filled(fullBlocks: 13, livePagesEach: 2);
        checkpoints.InProgress = true;

        gc.MakeRoom(pages: PagesPerBlock, hotRoom: 0, firmwareIdle: false);

        Assert.Equal(1, checkpoints.Finished);
        Assert.Equal(0, checkpoints.Written);
        Assert.True(pool.FreeCount - 1 >= Reserve);
    }

    [Fact]
    public void With_nothing_movable_and_no_checkpoint_to_help_it_refuses_and_moves_nothing()
    {
        var (pool, gc, log, checkpoints) = Filled(fullBlocks: 14, livePagesEach: 2);
        checkpoints.Helps = false;

        Assert.Throws<FlashNoSpaceException>(() => gc.MakeRoom(pages: PagesPerBlock, hotRoom: 0, firmwareIdle: false));

        Assert.Equal(0, checkpoints.Written);
        Assert.Empty(log.Relocated);
        Assert.Equal(2, pool.FreeCount);
    }

    [Fact]
    public void Room_in_the_hot_block_needs_no_collection_while_the_pool_is_above_its_reserve()
    {
        var (pool, gc, log, checkpoints) = Filled(fullBlocks: 8, livePagesEach: 2);
        log.CheckpointSequence = log.Sequence;

        gc.MakeRoom(pages: 2, hotRoom: 4, firmwareIdle: false);

        Assert.Empty(log.Relocated);
        Assert.Equal(0, checkpoints.Written);
        Assert.Equal(8, pool.FreeCount);
    }

    [Fact]
    public void The_pool_may_reclaim_an_empty_block_only_when_it_can_move_and_is_not_the_victim()
    {
        var (pool, gc, log, _) = Filled(fullBlocks: 4, livePagesEach: 0);
        Assert.False(gc.MayReclaim(0));

        log.CheckpointSequence = log.Sequence;
        Assert.True(gc.MayReclaim(0));
        pool.ReclaimEmptyBlocks(gc);

        Assert.Equal(Blocks, pool.FreeCount);
        Assert.Equal(4, gc.BlocksReclaimed);
    }

    [Fact]
    public void A_queued_scrub_closes_the_head_in_its_block_and_rewrites_its_pages_first()
    {
        var (pool, gc, log, _) = Filled(fullBlocks: 6, livePagesEach: 3);
        log.CheckpointSequence = log.Sequence;
        gc.QueueScrub(5);

        int moved = gc.CollectStep(maxPages: 3, allowWearLeveling: false, urgent: false);

        Assert.Equal(3, moved);
        Assert.Equal([5], log.ClosedIn);
        Assert.All(log.Relocated, p => Assert.Equal(5, p / PagesPerBlock));
        Assert.Equal(3, gc.PagesScrubbed);
        Assert.Equal(0, pool.Table.Valid[5]);
    }

    [Fact]
    public void Paced_collection_keeps_up_with_the_victims_live_fraction_and_adds_the_erase_only_when_it_fits()
    {
        // 8 pages a block, 2 live: reclaiming a victim gains 6 pages for 2 moves, so 3 pages written cost 1 move.
        var (_, gc, log, checkpoints) = Filled(fullBlocks: 10, livePagesEach: 2);
        log.CheckpointSequence = log.Sequence;
        Assert.Equal(1, gc.PacedQuota(pages: 3, free: 6, lowWater: 6));

        // Two blocks behind: 3 moves would empty the victim (2 live), so its erase (8 units) comes with them.
        Assert.Equal(2 + GarbageCollector.EraseUnits, gc.PacedQuota(pages: 3, free: 6, lowWater: 8));

        // While a checkpoint slice runs in every operation: the moves still keep up, but the erase does not fit with
        // them in what the checkpoint leaves collection (10 units less 2 for the slice, at least an erase).
        checkpoints.InProgress = true;
        Assert.Equal(2, gc.PacedQuota(pages: 3, free: 6, lowWater: 8));
    }

    [Fact]
    public void A_paced_step_leaves_the_erase_to_the_next_step_when_it_does_not_fit()
    {
        var (pool, gc, log, _) = Filled(fullBlocks: 10, livePagesEach: 2);
        log.CheckpointSequence = log.Sequence;
        int free = pool.FreeCount;

        Assert.Equal(2, gc.CollectStep(maxPages: 3, allowWearLeveling: false, urgent: false, eraseMustFit: true));
        Assert.True(gc.VictimEmpty);
        Assert.Equal(free, pool.FreeCount);

        Assert.Equal(GarbageCollector.EraseUnits, gc.CollectStep(maxPages: GarbageCollector.EraseUnits, allowWearLeveling: false, urgent: false, eraseMustFit: true));
        Assert.False(gc.VictimEmpty);
        Assert.Equal(free + 1, pool.FreeCount);
        Assert.Equal(1, gc.BlocksReclaimed);
    }

    /// <summary>A formatted pool with <paramref name="fullBlocks"/> full blocks written after the last checkpoint.</summary>
    private static (BlockPool Pool, GarbageCollector Gc, FakeLog Log, FakeCheckpoints Checkpoints) Filled(int fullBlocks, int livePagesEach)
    {
        var device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, PagesPerBlock, Blocks), Seed = 3 });
        var pool = new BlockPool(device, NullLogger.Instance, new NoRetirement());
        for (int b = 0; b < Blocks; b++)
        {
            pool.Format(b);
        }

        var log = new FakeLog(pool.Table) { Sequence = 1000 };
        for (int b = 0; b < fullBlocks; b++)
        {
            pool.Open(b, lastSequence: (ulong)(b * PagesPerBlock));
            for (int i = 0; i < livePagesEach; i++)
            {
                pool.Table.SetValid((b * PagesPerBlock) + i);
            }

            pool.Table.LastSequence[b] = (ulong)((b + 1) * PagesPerBlock);
            pool.CloseIfOpen(b);
        }

        var checkpoints = new FakeCheckpoints(log);
        var gc = new GarbageCollector(pool, log, checkpoints, new FlashFileSystemOptions(), Reserve, NullLogger.Instance);
        return (pool, gc, log, checkpoints);
    }

    /// <summary>The log: a page moved is no longer live where it was (the copy goes to a block outside the test).</summary>
    private sealed class FakeLog(BlockTable blocks) : IGcLog
    {
        public ulong Sequence { get; set; }

        public ulong CheckpointSequence { get; set; }

        public bool ColdHeadFull => false;

        public List<int> Relocated { get; } = [];

        public List<int> ClosedIn { get; } = [];

        public void CloseHeadsIn(int block) => ClosedIn.Add(block);

        public void Relocate(int page)
        {
            Relocated.Add(page);
            blocks.ClearValid(page);
        }
    }

    /// <summary>The checkpoint: writing or finishing one covers everything the log wrote so far.</summary>
    private sealed class FakeCheckpoints(FakeLog log) : ICheckpointTrigger
    {
        public bool InProgress { get; set; }

        public bool Helps { get; set; } = true;

        public int Written { get; private set; }

        public int Finished { get; private set; }

        public void AdvanceSlice()
        {
        }

        public void FinishInProgress()
        {
            InProgress = false;
            Finished++;
            log.CheckpointSequence = log.Sequence;
        }

        public bool TryWriteToFreeSpace()
        {
            if (!Helps)
            {
                return false;
            }

            Written++;
            log.CheckpointSequence = log.Sequence;
            return true;
        }
    }

    private sealed class NoRetirement : IBlockRetirementSink
    {
        public void BlockRetired(int block)
        {
        }

        public void BlockMarkedBad(int block)
        {
        }
    }
}

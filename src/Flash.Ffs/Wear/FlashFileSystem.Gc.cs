using Flash.Ffs.Blocks;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;

namespace Flash.Ffs;

/// <summary>
/// Idle-time maintenance, space accounting and the wiring of <see cref="GarbageCollector"/>: the
/// collector's log is <see cref="PageLog"/> and its checkpoint trigger (<see cref="ICheckpointTrigger"/>) the
/// checkpoint writer.
/// </summary>
public sealed partial class FlashFileSystem
{
    /// <summary>Pages left in the current anchor block under which <see cref="Maintain"/> erases the other one ahead of the switch.</summary>
    private const int AnchorStandbyPages = 8;

    /// <summary>Blocks the hot head opened since the last <see cref="Maintain"/> call (saturating).</summary>
    private int _hotOpensSinceMaintain = int.MaxValue;

    /// <summary>
    /// Spends idle time on work that would otherwise land on a later operation: garbage collection, wear levelling,
    /// scrubbing, erasing free blocks ahead of need, and a checkpoint when one is due.
    /// </summary>
    /// <param name="budget">Device time and/or pages it may spend.</param>
    /// <returns>What was done and how much work remains.</returns>
    public MaintenanceReport Maintain(MaintenanceBudget budget)
    {
        lock (_lock)
        {
            using var timer = FfsMetrics.Time(this, "maintain");
            EnsureWritable();
            return Guarded(() => MaintainCore(budget));
        }
    }

    private MaintenanceReport MaintainCore(MaintenanceBudget budget)
    {
        _hotOpensSinceMaintain = 0;
        long start = _device.Statistics.SimulatedNanoseconds;
        long limitNs = budget.SimulatedTimeBudget is { } t ? t.Ticks * 100 : long.MaxValue;
        int maxPages = budget.MaxPages ?? int.MaxValue;
        int moved = 0, erased = 0;

        // Work goes in units (a page move, the victim's erase, an index entry of the checkpoint, an erase ahead of
        // need), and a unit starts only when its whole device time fits what is left of the budget: a page move is a
        // read and a program, plus an erase when the cold head must open a block; a checkpoint entry is the pages it
        // may take (the most one entry took so far in this call) plus the anchor, the commit the pages left of the body
        // plus the anchor, and an erase when either may reach a new block. Only an entry larger than any before can
        // overshoot (the other anchor block is erased ahead, below), and the first unit, which always starts (so a
        // budget smaller than an erase still gets erases done).
        var timing = _device.Statistics.Timing;
        int pageBytes = _device.Geometry.PageSize + _device.Geometry.SpareSize;
        long programNs = timing.ProgramCost(pageBytes);
        long moveNs = timing.ReadCost(pageBytes) + programNs;
        long eraseNs = timing.EraseNs;
        long Spent() => _device.Statistics.SimulatedNanoseconds - start;
        bool Fits(long ns) => limitNs == long.MaxValue || Spent() + ns <= limitNs || Spent() == 0;

        int entryPages = 2, lastWritten = -1;
        bool CheckpointEntryFits()
        {
            if (_checkpoint.Pending is not { } p)
            {
                return false;
            }

            int w = p.Written.Count;
            entryPages = lastWritten >= 0 ? Math.Max(entryPages, w - lastWritten) : entryPages;
            lastWritten = w;
            int commitPages = _checkpoint.CommitPagesIfNext;
            int pages = commitPages >= 0 ? commitPages : entryPages + 1;
            bool newBlock = (w % _ppb) + pages > _ppb || w % _ppb == 0;
            return Fits((pages * programNs) + (newBlock ? eraseNs : 0));
        }

        // A victim emptied by the last call is erased first: on a budget not much larger than an erase it could not
        // be erased later in the call, and it would land on the next operation.
        _gc.DropStaleScrubs();
        if (_gc.VictimEmpty && Fits(eraseNs))
        {
            moved += _gc.CollectStep(GarbageCollector.EraseUnits, allowWearLeveling: false, urgent: false, eraseMustFit: true);
        }

        // A checkpoint in progress gets a slice first: until it commits, blocks written since it started cannot be
        // collected, so letting collection take the whole budget would starve both.
        long checkpoints = _checkpoint.CheckpointsWritten;
        if (_checkpoint.Pending is not null)
        {
            _checkpoint.Advance(_checkpoint.SlicePages, CheckpointEntryFits);
        }

        // Collection keeps the pool a block above the mark under which operations collect, so they find room and
        // collect nothing; no further, since free blocks held back raise WA. Even an unlimited budget ends: at most
        // two passes' worth of block moves (blocks that can hold no live data left the scrub queue above).
        int rounds = 0;
        while (moved < maxPages && rounds++ < _blocks.Count * 16)
        {
            // Reclaiming space comes first: wear levelling gains none, so it waits while the pool is low.
            // The mark is the one that holds once the checkpoint in progress commits (the next one's blocks counted):
            // otherwise the mark jumps up at its commit and the operations after it collect and erase (W9M's p99).
            int free = _pool.FreeCount;
            int mark = _gc.LowWater(CheckpointBlocksAfterCommit());
            bool wear = free >= mark && _gc.WearLevelingMayRun(free) && _gc.WearLevelingDue();
            bool gcWanted = _gc.Victim >= 0 || free < mark + 1 || _gc.ScrubPending || wear;
            if (!gcWanted)
            {
                break;
            }

            long cost = _gc.NextUnitCost(wear, moveNs, eraseNs);
            if (cost == 0 || !Fits(cost))
            {
                break;
            }

            int step = _gc.CollectStep(cost == eraseNs ? GarbageCollector.EraseUnits : 1, allowWearLeveling: wear, urgent: false, eraseMustFit: true);
            if (step == 0 && _gc.Victim < 0)
            {
                break;
            }

            moved += step;
        }

        // Starting a checkpoint programs its fixed part (header, heads, block table) at once, and its first block may
        // need an erase: only when that fits. Started an interval's last block early, so operations do not start it
        // and checkpoints come no more often than without Maintain (each rewrites the index).
        long headNs = ((long)((_checkpoint.HeadSize() + _chunk - 1) / _chunk) * programNs) + eraseNs;
        if (Fits(headNs) && _checkpoint.Pending is null && _checkpoint.BlocksSinceCheckpoint >= Math.Max(1, _checkpoint.IntervalBlocks - 1))
        {
            _checkpoint.Begin();
        }

        if (_checkpoint.Pending is not null)
        {
            _checkpoint.Advance(int.MaxValue, CheckpointEntryFits);
        }

        bool checkpoint = _checkpoint.CheckpointsWritten != checkpoints;

        // The other anchor block too, once the current one is nearly full: the commit or refill that switches blocks
        // then programs one page instead of erasing first.
        if (_anchors.PagesLeft <= AnchorStandbyPages && Fits(eraseNs) && _anchors.EraseStandbyAhead())
        {
            erased++;
        }

        // Erase free blocks ahead of need, so no erase lands on a later write.
        for (int b = 0; b < _blocks.Count && Fits(eraseNs); b++)
        {
            if (_blocks.State[b] == BlockState.Free && !_blocks.Erased[b] && _pool.Erase(b))
            {
                erased++;
            }
        }

        return new MaintenanceReport(moved, erased, checkpoint, TimeSpan.FromTicks((_device.Statistics.SimulatedNanoseconds - start) / 100), RemainingWork());
    }

    /// <summary>
    /// Work that would otherwise land on later foreground operations, in page moves: garbage to collect once the free
    /// pool is low (the same condition that makes <see cref="Maintain"/> collect), a pending scrub or wear-levelling
    /// move, free blocks still to erase (an erase counts as eight page moves), and the pages of a checkpoint in progress.
    /// </summary>
    private long RemainingWork()
    {
        long work = 0;
        bool poolLow = _pool.FreeCount < _gc.LowWater(NextCheckpointBlocks()) + 1;
        for (int b = 0; b < _blocks.Count; b++)
        {
            if (poolLow && _blocks.State[b] == BlockState.Full && _blocks.Valid[b] < _ppb)
            {
                work += _ppb - _blocks.Valid[b];
            }
            else if (_blocks.State[b] == BlockState.Free && !_blocks.Erased[b])
            {
                work += 8;
            }
        }

        // The rest of a checkpoint in progress, in pages still to program.
        long checkpoint = _checkpoint.Pending is { } p ? ((long)p.Size - p.Length + _chunk - 1) / _chunk : 0;
        return work + _gc.ScrubWork(_ppb) + (_gc.WearLevelingDue() ? _ppb : 0) + checkpoint;
    }

    /// <summary>What garbage collection moved since mount, by cause (the bench splits W9's WA with it).</summary>
    internal GcCounters GcCounters
    {
        get
        {
            lock (_lock)
            {
                return _gc.Counters;
            }
        }
    }

    /// <summary>
    /// The space garbage collection works in, for the bench's greedy models: live pages, and the blocks that can hold
    /// data or garbage (good blocks less the two anchor blocks and the current checkpoint's blocks).
    /// </summary>
    internal (long LivePages, int DataBlocks, int FreeFloor) GcSpace
    {
        get
        {
            lock (_lock)
            {
                int checkpointBlocks = _checkpoint.Pages.Select(p => p / _ppb).Distinct().Count();
                return (LivePages(), _pool.GoodBlocks - 2 - checkpointBlocks, _gc.FreeFloor);
            }
        }
    }

    /// <summary>
    /// Before the unmount's checkpoint: collection keeps only the free floor free, and the unmount's checkpoint must be
    /// written (a clean unmount is always recognised), so whole victims are reclaimed until its blocks are free: as
    /// many as the checkpoint estimate fills, plus each head's next block and the next checkpoint's, but no more than
    /// the reserve, which is what the pool held before the floor. A reserve no larger than the floor is kept free by
    /// collection as before, so nothing is collected (what a small volume writes at unmount stays the same).
    /// </summary>
    private void ReclaimForUnmountCheckpoint()
    {
        if (_gc.FreeFloor >= _reserveBlocks)
        {
            return;
        }

        int checkpointBlocks = ((_checkpoint.SizeEstimate() + _chunk - 1) / _chunk / _ppb) + 1;
        _gc.ReclaimForCheckpoint(Math.Min(checkpointBlocks + 3, _reserveBlocks));
    }

    /// <summary>Whether the block the hot head opens next must be erased first (its reserved block, else the least-worn free one).</summary>
    private bool NextHotBlockUnerased()
    {
        int b = _pageLog.Hot.ReservedNext;
        if (b < 0 || _blocks.State[b] != BlockState.Free)
        {
            b = _pool.PickFree(mostWorn: false);
        }

        return b >= 0 && !_blocks.Erased[b];
    }

    /// <summary>Blocks the checkpoint after the one in progress (or the next one) claims when it starts: as <see cref="NextCheckpointBlocks"/>, even while one is in progress.</summary>
    private int CheckpointBlocksAfterCommit() => ((_checkpoint.Pages.Count + _ppb - 1) / _ppb) + 1;

    /// <summary>Blocks the next checkpoint claims when it starts, as many as the last one took plus one; 0 while one is in progress.</summary>
    private int NextCheckpointBlocks() => _checkpoint.Pending is null ? ((_checkpoint.NextBodyPages + _ppb - 1) / _ppb) + 1 : 0;

    /// <summary>Pages holding live data, including pages kept for uncommitted transactions.</summary>
    private long LivePages() => _blocks.LivePages;

    /// <summary>Pages users may fill: good blocks less the anchors, the GC reserve, room for a checkpoint and partly filled heads.</summary>
    private long UsableCapacityPages()
    {
        int checkpointBlocks = (2 * ((_checkpoint.SizeEstimate() / _chunk / _ppb) + 1)) + 1;
        return Math.Max(0, _pool.GoodBlocks - _reserveBlocks - checkpointBlocks - 2) * (long)_ppb;
    }

    /// <summary>
    /// Makes sure <paramref name="pages"/> more pages can be written: refuses with <see cref="FlashNoSpaceException"/>
    /// before anything is written when they would not fit, and otherwise has garbage collection reclaim blocks
    /// (<see cref="GarbageCollector.MakeRoom"/>).
    /// </summary>
    private void EnsureSpace(int pages)
    {
        MarkOperationStart();
        try
        {
            // Small files written one per page count at what they fill once garbage collection has packed them: the
            // gain of the blocks it would move for it, counted (a walk over the blocks) only once the pages as they
            // are no longer fit, and one block short of it, so that the reserve stays whole when the estimate is
            // high (each victim's last packed page is partly filled).
            long live = LivePages();
            if (live + pages > UsableCapacityPages() && _inline.InlinePages > 0)
            {
                live -= Math.Max(0, _inline.ReachablePackGain(VictimPolicy.MinPackGain) - _ppb);
            }

            if (live + pages > UsableCapacityPages())
            {
                throw new FlashNoSpaceException($"No space: {pages} page(s) needed, {Math.Max(0, UsableCapacityPages() - live)} free.");
            }

            int hotRoom = _pageLog.Hot.Block >= 0 ? _ppb - _pageLog.Hot.WritePointer : 0;
            // A checkpoint starting at this operation's commit programs its fixed part then: its collection stays a steady
            // slice. One block early, since blocks this operation or its collection closes count towards the interval.
            bool checkpointStarts = _checkpoint.Pending is null && _checkpoint.BlocksSinceCheckpoint + 1 >= _checkpoint.IntervalBlocks;
            _gc.MakeRoom(pages, hotRoom, firmwareIdle: _hotOpensSinceMaintain > 1, NextCheckpointBlocks(), checkpointStarts, pages > hotRoom && NextHotBlockUnerased());
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }
    }
}

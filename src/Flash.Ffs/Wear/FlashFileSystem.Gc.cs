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
        bool checkpoint = false;

        // Work goes in units of at most a page read, a page program and an erase (a page move whose target block must
        // be opened; a checkpoint page whose block is erased first; an erase ahead of need), and a unit starts only
        // while a page read still fits: so the budget is overshot by at most one page program plus one erase.
        long readNs = _device.Statistics.Timing.ReadCost(_device.Geometry.PageSize + _device.Geometry.SpareSize);
        long programNs = _device.Statistics.Timing.ProgramCost(_device.Geometry.PageSize + _device.Geometry.SpareSize);
        long Spent() => _device.Statistics.SimulatedNanoseconds - start;
        bool TimeLeft() => Spent() + readNs <= limitNs;

        // A checkpoint in progress gets a slice first: until it commits, blocks written since it started cannot be
        // collected, so letting collection take the whole budget would starve both.
        long checkpoints = _checkpoint.CheckpointsWritten;
        if (_checkpoint.Pending is not null)
        {
            _checkpoint.Advance(_checkpoint.SlicePages, TimeLeft);
        }

        // Even an unlimited budget ends: at most two passes' worth of block moves, and blocks that can hold no live
        // data (freed, bad, checkpoint) leave the scrub queue.
        _gc.DropStaleScrubs();
        int rounds = 0;
        while (TimeLeft() && moved < maxPages && rounds++ < _blocks.Count * 16)
        {
            // Reclaiming space comes first: wear levelling gains none, so it waits while the pool is low.
            int free = _pool.FreeCount;
            bool wear = free >= _reserveBlocks * 2 && _gc.WearLevelingDue();
            bool gcWanted = _gc.Victim >= 0 || free < _reserveBlocks * 3 || _gc.ScrubPending || wear;
            if (!gcWanted)
            {
                break;
            }

            int step = _gc.CollectStep(1, allowWearLeveling: wear, greedyOnly: false);
            if (step == 0 && _gc.Victim < 0)
            {
                break;
            }

            moved += step;
        }

        // Starting a checkpoint programs its fixed part (header, heads, block table) at once: only when that fits.
        long headNs = (long)((_checkpoint.HeadSize() + _chunk - 1) / _chunk) * programNs;
        if (TimeLeft() && Spent() + headNs <= limitNs && _checkpoint.Pending is null && _checkpoint.BlocksSinceCheckpoint >= Math.Max(1, _options.CheckpointIntervalBlocks / 2))
        {
            _checkpoint.Begin();
        }

        if (_checkpoint.Pending is not null && TimeLeft())
        {
            _checkpoint.Advance(int.MaxValue, TimeLeft);
        }

        checkpoint = _checkpoint.CheckpointsWritten != checkpoints;

        // Erase free blocks ahead of need, so no erase lands on a later write.
        for (int b = 0; b < _blocks.Count && TimeLeft(); b++)
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
        bool poolLow = _pool.FreeCount < _reserveBlocks * 3;
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
        try
        {
            if (LivePages() + pages > UsableCapacityPages())
            {
                throw new FlashNoSpaceException($"No space: {pages} page(s) needed, {Math.Max(0, UsableCapacityPages() - LivePages())} free.");
            }

            int hotRoom = _pageLog.Hot.Block >= 0 ? _ppb - _pageLog.Hot.WritePointer : 0;
            _gc.MakeRoom(pages, hotRoom, firmwareIdle: _hotOpensSinceMaintain > 1);
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }
    }
}

using Flash.Ffs.Blocks;
using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>Garbage collection, static wear levelling, scrubbing, space accounting and idle-time maintenance.</summary>
public sealed partial class FlashFileSystem : IReclaimPolicy
{
    private int _victim = -1;

    /// <summary>Blocks the hot head opened since the last <see cref="Maintain"/> call (saturating).</summary>
    private int _hotOpensSinceMaintain = int.MaxValue;
    private bool _victimForWear;
    private readonly HashSet<int> _scrubQueue = [];
    private readonly HashSet<(uint Id, uint Chunk)> _lostChunks = [];

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
        long checkpoints = _checkpointsWritten;
        if (_pending is not null)
        {
            AdvanceCheckpoint(CheckpointSlicePages, TimeLeft);
        }

        // Even an unlimited budget ends: at most two passes' worth of block moves, and blocks that can hold no live
        // data (freed, bad, checkpoint) leave the scrub queue.
        _scrubQueue.RemoveWhere(b => _blocks.State[b] is not (BlockState.Full or BlockState.Open));
        int rounds = 0;
        while (TimeLeft() && moved < maxPages && rounds++ < _blocks.Count * 16)
        {
            // Reclaiming space comes first: wear levelling gains none, so it waits while the pool is low.
            int free = _pool.FreeCount;
            bool wear = free >= _reserveBlocks * 2 && WearLevelingDue();
            bool gcWanted = _victim >= 0 || free < _reserveBlocks * 3 || _scrubQueue.Count > 0 || wear;
            if (!gcWanted)
            {
                break;
            }

            int step = CollectStep(1, allowWearLeveling: wear, greedyOnly: false);
            if (step == 0 && _victim < 0)
            {
                break;
            }

            moved += step;
        }

        // Starting a checkpoint programs its fixed part (header, heads, block table) at once: only when that fits.
        long headNs = (long)((CheckpointHeadSize() + _chunk - 1) / _chunk) * programNs;
        if (TimeLeft() && Spent() + headNs <= limitNs && _pending is null && _blocksSinceCheckpoint >= Math.Max(1, _options.CheckpointIntervalBlocks / 2))
        {
            BeginCheckpoint();
        }

        if (_pending is not null && TimeLeft())
        {
            AdvanceCheckpoint(int.MaxValue, TimeLeft);
        }

        checkpoint = _checkpointsWritten != checkpoints;

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
        long checkpoint = _pending is { } p ? ((long)p.Size - p.Length + _chunk - 1) / _chunk : 0;
        return work + (_scrubQueue.Count * (long)_ppb) + (WearLevelingDue() ? _ppb : 0) + checkpoint;
    }

    /// <summary>Pages holding live data, including pages kept for uncommitted transactions.</summary>
    private long LivePages() => _blocks.LivePages;

    /// <summary>Pages users may fill: good blocks less the anchors, the GC reserve, room for a checkpoint and partly filled heads.</summary>
    private long UsableCapacityPages()
    {
        int checkpointBlocks = (2 * ((CheckpointSizeEstimate() / _chunk / _ppb) + 1)) + 1;
        return Math.Max(0, _pool.GoodBlocks - _reserveBlocks - checkpointBlocks - 2) * (long)_ppb;
    }

    /// <summary>
    /// Makes sure <paramref name="pages"/> more pages can be written: refuses with <see cref="FlashNoSpaceException"/>
    /// before anything is written when they would not fit, and otherwise reclaims blocks (boundedly when there is slack,
    /// fully when the free pool is down to its reserve).
    /// </summary>
    private void EnsureSpace(int pages)
    {
        try
        {
            EnsureSpaceCore(pages);
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }
    }

    private void EnsureSpaceCore(int pages)
    {
        if (LivePages() + pages > UsableCapacityPages())
        {
            throw new FlashNoSpaceException($"No space: {pages} page(s) needed, {Math.Max(0, UsableCapacityPages() - LivePages())} free.");
        }

        int hotRoom = _hot.Block >= 0 ? _ppb - _hot.WritePointer : 0;
        if (pages <= hotRoom)
        {
            // The pool is near the reserve: the block this head opens next would have to be reclaimed in one go.
            // Reclaim it in slices over the operations that fill the current block instead. When nothing can move yet
            // because the garbage is younger than the last checkpoint, a slice of the checkpoint in progress helps.
            // At the reserve itself this operation opens no block, so it may spend what the per-operation bound
            // allows for the greedy step of an operation that does (docs/latency.md).
            int free = _pool.FreeCount;
            int slice = _options.MaxForegroundPagesPerOperation * (free <= _reserveBlocks ? 2 : 1);
            if (free <= _reserveBlocks + 1
                && CollectStep(slice, allowWearLeveling: false, greedyOnly: false) == 0
                && _pending is not null)
            {
                AdvanceCheckpoint(CheckpointSlicePages, () => true);
            }

            return;
        }

        int neededBlocks = ((pages - hotRoom) + _ppb - 1) / _ppb;
        int budget = _options.MaxForegroundPagesPerOperation;

        // Incremental: when the pool is getting low, do a bounded slice of collection with every block opened. Wear
        // levelling is not urgent: while firmware calls Maintain between operations, it is left to those calls.
        bool wearHere = _hotOpensSinceMaintain > 1 && _pool.FreeCount - neededBlocks >= _reserveBlocks * 2 && WearLevelingDue();
        if (_pool.FreeCount - neededBlocks < _reserveBlocks * 2 || wearHere || _scrubQueue.Count > 0)
        {
            CollectStep(budget, allowWearLeveling: wearHere, greedyOnly: false);
        }

        // Mandatory: never let user data eat into the reserve that garbage collection needs to make progress.
        bool checkpointed = false;
        while (_pool.FreeCount - neededBlocks < _reserveBlocks)
        {
            int moved = CollectStep(_ppb, allowWearLeveling: false, greedyOnly: true);
            if (moved > 0 || _victim >= 0)
            {
                continue;
            }

            // Nothing movable: the garbage may sit in blocks written since the last checkpoint, which must not move.
            // A checkpoint in progress is finished first (it always ends, committed or abandoned); garbage written
            // while it was in progress may still need the full checkpoint below.
            if (_pending is not null)
            {
                FinishPendingCheckpoint();
                continue;
            }

            // A checkpoint also lets go of blocks held for ended transactions by the previous one.
            if (!checkpointed && (_blocksSinceCheckpoint > 0 || _heldForEndedTxns.Count > 0) && CheckpointCanCoverOpenTxns())
            {
                WriteCheckpoint(forUnmount: false);
                checkpointed = true;
                continue;
            }

            if (_pool.FreeCount > neededBlocks + 1)
            {
                break;
            }

            throw new FlashNoSpaceException("No space: every block holds live data or data that cannot move until the open transactions commit.");
        }
    }

    /// <summary>
    /// Static wear levelling is due when the gap between the most-worn block and the least-worn cold block passes
    /// <see cref="FlashFileSystemOptions.WearLevelingThreshold"/> and the free pool has run out of blocks below the
    /// device's mean erase count: the block new writes open next would, once erased, be above the mean. Moving one
    /// cold block then hands a little-worn block to new writes (and puts the cold data to rest on a worn free block),
    /// so moves happen only as fast as the hot data wears the pool and the most-worn block stays close to the mean
    /// (docs/wear.md has the measurements behind this rule).
    /// </summary>
    private bool WearLevelingDue()
    {
        int victim = PickWearLevelingVictim();
        var (max, mean) = _pool.EraseCounts();
        if (victim < 0)
        {
            return false;
        }

        // The next free block is looked up only when the gap already calls for a move (it walks the table).
        int next = max - _blocks.EraseCount[victim] > (uint)_options.WearLevelingThreshold ? _pool.PickFree(mostWorn: false) : -1;
        return VictimPolicy.WearLevelingDue(max, mean, _blocks.EraseCount[victim], _options.WearLevelingThreshold, next < 0 ? null : _blocks.EraseCount[next]);
    }

    /// <summary>
    /// A block garbage collection may move: full, covered by the last checkpoint, holding no page an open transaction
    /// superseded, and not held for a checkpoint that lists an open transaction's pages in it.
    /// </summary>
    private bool Movable(int b) => BlockView.Movable(b);

    /// <summary>The block table as garbage collection and wear levelling see it (read only).</summary>
    private BlockTableView BlockView => new(_blocks, _ppb, _checkpointSeq);

    /// <summary>
    /// Moves up to <paramref name="maxPages"/> live pages out of the current victim block, choosing a new victim when
    /// needed, and erases the victim once it is empty. Returns the pages moved (0 with no victim means nothing to do).
    /// </summary>
    private int CollectStep(int maxPages, bool allowWearLeveling, bool greedyOnly)
    {
        int moved = 0;
        while (moved < maxPages)
        {
            if (_victim < 0 && !PickVictim(allowWearLeveling, greedyOnly))
            {
                return moved;
            }

            int victim = _victim;
            if (!Movable(victim))
            {
                _victim = -1;
                continue;
            }

            bool coldHeadFull = _cold.Block < 0 || _cold.WritePointer >= _ppb;
            if (greedyOnly && _victimForWear && _pool.FreeCount <= 1)
            {
                // Space is short: a wear-levelling move gains no space, so it waits; reclaim garbage first.
                _victim = -1;
                continue;
            }

            if (coldHeadFull && _pool.FreeCount == 0 && _blocks.Valid[victim] > 0)
            {
                // Nowhere to copy to; moving on would need the block this move is meant to free.
                return moved;
            }

            int next = -1;
            foreach (int p in _blocks.ValidPages(victim))
            {
                next = p;
                break;
            }

            if (next >= 0)
            {
                RelocatePage(next);
                moved++;
                continue;
            }

            // Empty: reclaim it. An erase costs about as much device time as moving eight pages.
            moved += 8;
            _victim = -1;
            ReturnToPool(victim);
            if (_pool.Erase(victim))
            {
                _log.LogDebug(FfsEvents.GarbageCollection, "Reclaimed block {Block} (erase count {EraseCount})", victim, _blocks.EraseCount[victim]);
            }

            if (greedyOnly)
            {
                return moved;
            }
        }

        return moved;
    }

    private bool PickVictim(bool allowWearLeveling, bool greedyOnly)
    {
        foreach (int b in _scrubQueue)
        {
            // A head still filling the block would keep it from ever moving: close it, the head opens a new one.
            foreach (var head in new[] { _hot, _cold })
            {
                if (head.Block == b)
                {
                    CloseHead(head);
                }
            }

            if (Movable(b))
            {
                _victim = b;
                _victimForWear = false;
                _scrubbed += _blocks.Valid[b];
                _log.LogInformation(FfsEvents.Scrub, "Scrubbing block {Block}: rewriting {Pages} page(s) read with corrected bit errors", b, _blocks.Valid[b]);
                return true;
            }
        }

        if (allowWearLeveling && WearLevelingDue())
        {
            int coldest = PickWearLevelingVictim();

            if (coldest >= 0)
            {
                _victim = coldest;
                _victimForWear = true;
                _wlMoves++;
                _log.LogDebug(FfsEvents.WearLeveling, "Wear levelling: moving cold block {Block} (erase count {EraseCount})", coldest, _blocks.EraseCount[coldest]);
                return true;
            }
        }

        int best = VictimPolicy.CollectionVictim(BlockView, _seq, greedyOnly);
        _victim = best;
        _victimForWear = false;
        return best >= 0;
    }

    /// <summary>
    /// The block static wear levelling should move: the least-worn movable block whose data has rested for a while.
    /// Picking by erase count alone would often pick freshly written hot data (new writes go to the least-worn free
    /// blocks), copy it into the most-worn block and erase that block again as soon as the data is overwritten. Data
    /// older than an eighth of the device's pages' worth of writes is treated as cold; when there is none, any
    /// movable block is a candidate. Returns -1 when no block is movable.
    /// </summary>
    private int PickWearLevelingVictim() => VictimPolicy.WearLevelingVictim(BlockView, _seq);

    /// <summary>Puts a reclaimed block (no live page left) back in the free pool, to be erased before it is used.</summary>
    private void ReturnToPool(int block)
    {
        _pool.ReturnToPool(block);
        ((IReclaimPolicy)this).Reclaimed(block);
    }

    /// <summary>An empty block may go back to the pool unless it is the victim being emptied or cannot move yet.</summary>
    bool IReclaimPolicy.MayReclaim(int block) => block != _victim && Movable(block);

    /// <summary>A reclaimed block leaves the scrub queue and counts as reclaimed.</summary>
    void IReclaimPolicy.Reclaimed(int block)
    {
        _scrubQueue.Remove(block);
        _gcBlocks++;
    }
}

using Flash.Ffs.Blocks;
using Flash.Ffs.Index;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Wear;

/// <summary>
/// Garbage collection, static wear levelling and scrubbing: chooses a victim block (<see cref="VictimPolicy"/>, pure),
/// moves its live pages through the log (<see cref="IGcLog"/>), and returns it to the <see cref="BlockPool"/> once
/// empty. It owns the victim, the scrub queue and its counters. When space runs out and nothing can move, it asks for
/// a checkpoint through <see cref="ICheckpointTrigger"/> (a call upwards). As the pool's <see cref="IReclaimPolicy"/>
/// it keeps the victim being emptied and blocks that cannot move yet in place.
/// </summary>
internal sealed class GarbageCollector : IReclaimPolicy
{
    private readonly BlockPool _pool;
    private readonly BlockTable _blocks;
    private readonly IGcLog _log;
    private readonly ICheckpointTrigger _checkpoints;
    private readonly FlashFileSystemOptions _options;
    private readonly int _reserveBlocks;
    private readonly ILogger _logger;
    private readonly HashSet<int> _scrubQueue = [];
    private int _victim = -1;
    private bool _victimForWear;

    public GarbageCollector(BlockPool pool, IGcLog log, ICheckpointTrigger checkpoints, FlashFileSystemOptions options, int reserveBlocks, ILogger logger)
    {
        _pool = pool;
        _blocks = pool.Table;
        _log = log;
        _checkpoints = checkpoints;
        _options = options;
        _reserveBlocks = reserveBlocks;
        _logger = logger;
    }

    /// <summary>The block being emptied, or -1.</summary>
    public int Victim => _victim;

    /// <summary>Whether blocks wait to be scrubbed.</summary>
    public bool ScrubPending => _scrubQueue.Count > 0;

    /// <summary>Blocks returned to the free pool since mount.</summary>
    public long BlocksReclaimed { get; private set; }

    /// <summary>Wear-levelling moves since mount.</summary>
    public long WearLevelingMoves { get; private set; }

    /// <summary>Pages rewritten by scrubbing since mount.</summary>
    public long PagesScrubbed { get; private set; }

    /// <summary>RAM held: this object and the scrub queue.</summary>
    public long RamBytes => RamSize.Object((7 * RamSize.Reference) + (3 * 8) + 4 + 4 + 1) + RamSize.HashSet(12, _scrubQueue.Capacity);

    /// <summary>The block table as victim choice sees it (read only), movability against the last checkpoint.</summary>
    private BlockTableView View => new(_blocks, _pool.PagesPerBlock, _log.CheckpointSequence);

    /// <summary>Queues a block whose page needed ECC correction at or above the threshold: its data is rewritten.</summary>
    public void QueueScrub(int block) => _scrubQueue.Add(block);

    /// <summary>Blocks that can hold no live data any more (freed, bad, checkpoint) leave the scrub queue.</summary>
    public void DropStaleScrubs() => _scrubQueue.RemoveWhere(b => _blocks.State[b] is not (BlockState.Full or BlockState.Open));

    /// <summary>Scrub moves still queued, in pages.</summary>
    public long ScrubWork(int pagesPerBlock) => _scrubQueue.Count * (long)pagesPerBlock;

    /// <summary>
    /// A block garbage collection may move: full, covered by the last checkpoint, holding no page an open transaction
    /// superseded, and not held for a checkpoint that lists an open transaction's pages in it.
    /// </summary>
    public bool Movable(int block) => View.Movable(block);

    /// <inheritdoc/>
    public bool MayReclaim(int block) => block != _victim && Movable(block);

    /// <inheritdoc/>
    public void Reclaimed(int block)
    {
        _scrubQueue.Remove(block);
        BlocksReclaimed++;
    }

    /// <summary>
    /// Static wear levelling is due when the gap between the most-worn block and the least-worn cold block passes
    /// <see cref="FlashFileSystemOptions.WearLevelingThreshold"/> and the free pool has run out of blocks below the
    /// device's mean erase count (<see cref="VictimPolicy.WearLevelingDue"/>; docs/wear.md has the measurements).
    /// </summary>
    public bool WearLevelingDue()
    {
        int victim = VictimPolicy.WearLevelingVictim(View, _log.Sequence);
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
    /// Reclaims room for <paramref name="pages"/> more pages, <paramref name="hotRoom"/> of which fit in the hot head's
    /// block: boundedly when there is slack, fully when the free pool is down to its reserve, asking for a checkpoint
    /// when the garbage cannot move before one. <paramref name="firmwareIdle"/>: no <c>Maintain</c> call came since
    /// the hot head opened its last block, so wear levelling may run here. Throws <see cref="FlashNoSpaceException"/>
    /// when nothing can be reclaimed.
    /// </summary>
    public void MakeRoom(int pages, int hotRoom, bool firmwareIdle)
    {
        int ppb = _pool.PagesPerBlock;
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
                && _checkpoints.InProgress)
            {
                _checkpoints.AdvanceSlice();
            }

            return;
        }

        int neededBlocks = ((pages - hotRoom) + ppb - 1) / ppb;
        int budget = _options.MaxForegroundPagesPerOperation;

        // Incremental: when the pool is getting low, do a bounded slice of collection with every block opened. Wear
        // levelling is not urgent: while firmware calls Maintain between operations, it is left to those calls.
        bool wearHere = firmwareIdle && _pool.FreeCount - neededBlocks >= _reserveBlocks * 2 && WearLevelingDue();
        if (_pool.FreeCount - neededBlocks < _reserveBlocks * 2 || wearHere || _scrubQueue.Count > 0)
        {
            CollectStep(budget, allowWearLeveling: wearHere, greedyOnly: false);
        }

        // Mandatory: never let user data eat into the reserve that garbage collection needs to make progress.
        bool checkpointed = false;
        while (_pool.FreeCount - neededBlocks < _reserveBlocks)
        {
            int moved = CollectStep(ppb, allowWearLeveling: false, greedyOnly: true);
            if (moved > 0 || _victim >= 0)
            {
                continue;
            }

            // Nothing movable: the garbage may sit in blocks written since the last checkpoint, which must not move.
            // A checkpoint in progress is finished first (it always ends, committed or abandoned); garbage written
            // while it was in progress may still need the full checkpoint below, which also lets go of blocks held
            // for ended transactions by the previous one.
            if (_checkpoints.InProgress)
            {
                _checkpoints.FinishInProgress();
                continue;
            }

            if (!checkpointed && _checkpoints.TryWriteToFreeSpace())
            {
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
    /// Moves up to <paramref name="maxPages"/> live pages out of the current victim block, choosing a new victim when
    /// needed, and erases the victim once it is empty. Returns the pages moved (0 with no victim means nothing to do).
    /// </summary>
    public int CollectStep(int maxPages, bool allowWearLeveling, bool greedyOnly)
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

            if (greedyOnly && _victimForWear && _pool.FreeCount <= 1)
            {
                // Space is short: a wear-levelling move gains no space, so it waits; reclaim garbage first.
                _victim = -1;
                continue;
            }

            if (_log.ColdHeadFull && _pool.FreeCount == 0 && _blocks.Valid[victim] > 0)
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
                _log.Relocate(next);
                moved++;
                continue;
            }

            // Empty: reclaim it. An erase costs about as much device time as moving eight pages.
            moved += 8;
            _victim = -1;
            _pool.ReturnToPool(victim);
            Reclaimed(victim);
            if (_pool.Erase(victim))
            {
                _logger.LogDebug(FfsEvents.GarbageCollection, "Reclaimed block {Block} (erase count {EraseCount})", victim, _blocks.EraseCount[victim]);
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
            _log.CloseHeadsIn(b);
            if (Movable(b))
            {
                _victim = b;
                _victimForWear = false;
                PagesScrubbed += _blocks.Valid[b];
                _logger.LogInformation(FfsEvents.Scrub, "Scrubbing block {Block}: rewriting {Pages} page(s) read with corrected bit errors", b, _blocks.Valid[b]);
                return true;
            }
        }

        if (allowWearLeveling && WearLevelingDue())
        {
            int coldest = VictimPolicy.WearLevelingVictim(View, _log.Sequence);
            if (coldest >= 0)
            {
                _victim = coldest;
                _victimForWear = true;
                WearLevelingMoves++;
                _logger.LogDebug(FfsEvents.WearLeveling, "Wear levelling: moving cold block {Block} (erase count {EraseCount})", coldest, _blocks.EraseCount[coldest]);
                return true;
            }
        }

        int best = VictimPolicy.CollectionVictim(View, _log.Sequence, greedyOnly);
        _victim = best;
        _victimForWear = false;
        return best >= 0;
    }
}

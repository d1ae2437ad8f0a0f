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
    private readonly int _freeFloor;
    private readonly ILogger _logger;
    private readonly IPackGain? _pack;
    private readonly HashSet<int> _scrubQueue = [];
    private int _victim = -1;
    private VictimCause _victimCause;
    private int _reclaimsSinceWear;

    public GarbageCollector(BlockPool pool, IGcLog log, ICheckpointTrigger checkpoints, FlashFileSystemOptions options, int reserveBlocks, ILogger logger, IPackGain? pack = null)
    {
        _pack = pack;
        _pool = pool;
        _blocks = pool.Table;
        _log = log;
        _checkpoints = checkpoints;
        _options = options;
        _reserveBlocks = reserveBlocks;
        _freeFloor = PacingPolicy.FreeFloor(reserveBlocks);
        _logger = logger;
        pool.ConnectEmptying(() => _victim);
    }

    /// <summary>The block being emptied, or -1.</summary>
    public int Victim => _victim;

    /// <summary>Whether the victim is empty, so that the next unit of collection is its erase.</summary>
    public bool VictimEmpty => _victim >= 0 && _blocks.Valid[_victim] == 0;

    /// <summary>Whether blocks wait to be scrubbed.</summary>
    public bool ScrubPending => _scrubQueue.Count > 0;

    /// <summary>Blocks returned to the free pool since mount.</summary>
    public long BlocksReclaimed { get; private set; }

    /// <summary>Wear-levelling moves since mount.</summary>
    public long WearLevelingMoves { get; private set; }

    /// <summary>Pages rewritten by scrubbing since mount.</summary>
    public long PagesScrubbed { get; private set; }

    /// <summary>Free blocks the mandatory collection keeps (<see cref="PacingPolicy.FreeFloor"/>).</summary>
    public int FreeFloor => _freeFloor;

    /// <summary>What collection moved since mount, by cause (the bench splits W9's WA with it).</summary>
    public GcCounters Counters => new(_collectMoves, _wearMoves, _scrubMoves);

    private long _collectMoves, _wearMoves, _scrubMoves;

    /// <summary>RAM held: this object and the scrub queue.</summary>
    public long RamBytes => RamSize.Object((8 * RamSize.Reference) + (6 * 8) + 4 + 4 + 4 + 4 + 4) + RamSize.HashSet(12, _scrubQueue.Capacity);

    /// <summary>The block table as victim choice sees it (read only), movability against the last checkpoint.</summary>
    private BlockTableView View => new(_blocks, _pool.PagesPerBlock, _log.CheckpointSequence, _pack);

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
        _reclaimsSinceWear = Math.Min(_reclaimsSinceWear + 1, WearEveryReclaims);
    }

    /// <summary>Blocks collection reclaims, with the pool low, for each wear-levelling move it may make.</summary>
    private const int WearEveryReclaims = 32;

    /// <summary>
    /// Whether a wear-levelling move may run with <paramref name="free"/> blocks in the pool: always when it has room
    /// (twice the reserve); when it is low (a full volume in steady state), once every
    /// <see cref="WearEveryReclaims"/> blocks reclaimed. A move gains no space and costs a whole block of copies:
    /// under uniform overwrites (W9) erase counts spread past the threshold by chance alone, and moving a block each
    /// time raised W9M's WA by about 1; one move in 32 reclaims costs at most 2 pages a block reclaimed and still lets
    /// cold data on a full volume move.
    /// </summary>
    public bool WearLevelingMayRun(int free) => free >= _reserveBlocks * 2 || _reclaimsSinceWear >= WearEveryReclaims;

    /// <summary>
    /// Static wear levelling is due when the gap between the most-worn block and the least-worn cold block passes
    /// <see cref="FlashFileSystemOptions.WearLevelingThreshold"/> and the free pool has run out of blocks below the
    /// device's mean erase count (<see cref="VictimPolicy.WearLevelingDue"/>; docs/wear.md has the measurements).
    /// </summary>
    public bool WearLevelingDue()
    {
        // Any victim is a full block, counted in the pool's erase-count summary, so it is worn at least as much as the
        // least-worn block: when even that one is within the threshold of the most-worn the rule cannot fire, and the
        // walk over the whole table (once per block opened; host CPU per page that grew with the device) is skipped.
        var (max, mean) = _pool.EraseCounts();
        if (max - _pool.LowestEraseCount() <= (uint)_options.WearLevelingThreshold)
        {
            return false;
        }

        int victim = VictimPolicy.WearLevelingVictim(View, _log.Sequence);
        if (victim < 0)
        {
            return false;
        }

        // The next free block is looked up only when the gap already calls for a move (it walks the table).
        int next = max - _blocks.EraseCount[victim] > (uint)_options.WearLevelingThreshold ? _pool.PickFree(mostWorn: false) : -1;
        return VictimPolicy.WearLevelingDue(max, mean, _blocks.EraseCount[victim], _options.WearLevelingThreshold, next < 0 ? null : _blocks.EraseCount[next]);
    }

    /// <summary>
    /// Free blocks (after the ones an operation opens) under which every operation collects a paced slice
    /// (<see cref="PacingPolicy.LowWater"/>): a little above the free floor, so the mandatory whole-block step below
    /// rarely runs, and no higher, because free blocks held back in the pool are spare space the victims do not get
    /// to hold garbage in (that raises WA).
    /// </summary>
    /// <param name="checkpointBlocks">Blocks the next checkpoint will claim from the pool when it starts (0 while one
    /// is in progress): kept free too, so that its start does not drop the pool under the floor at once.</param>
    public int LowWater(int checkpointBlocks) => PacingPolicy.LowWater(_freeFloor, checkpointBlocks);

    /// <summary>
    /// Reclaims room for <paramref name="pages"/> more pages, <paramref name="hotRoom"/> of which fit in the hot head's
    /// block. Below <see cref="LowWater(int)"/> every operation moves a paced number of pages (<see cref="PacedQuota"/>):
    /// about what its own pages cost in collection at the current victim's live fraction, plus a little more the
    /// further the pool is below the mark, never more than
    /// <see cref="FlashFileSystemOptions.MaxForegroundPagesPerOperation"/>. When the pool still reaches the reserve,
    /// a whole victim is reclaimed at once, asking for a checkpoint when the garbage cannot move before one.
    /// <paramref name="firmwareIdle"/>: no <c>Maintain</c> call came since the hot head opened its last block, so
    /// wear levelling may run here. Throws <see cref="FlashNoSpaceException"/> when nothing can be reclaimed.
    /// </summary>
    /// <param name="pages">Pages the operation writes.</param>
    /// <param name="hotRoom">Of those, pages that fit in the hot head's block.</param>
    /// <param name="firmwareIdle">No <c>Maintain</c> call came since the hot head opened its last block.</param>
    /// <param name="checkpointBlocks">Blocks the next checkpoint claims when it starts (see <see cref="LowWater(int)"/>).</param>
    /// <param name="checkpointStarts">A checkpoint starts at this operation's commit (its fixed part is programmed then),
    /// so the operation's collection is kept to a steady slice even with the pool short.</param>
    /// <param name="opensUnerased">The hot head's next block must be erased when this operation opens it (if it opens one).</param>
    public void MakeRoom(int pages, int hotRoom, bool firmwareIdle, int checkpointBlocks = 0, bool checkpointStarts = false, bool opensUnerased = false)
    {
        int lowWater = LowWater(checkpointBlocks);
        int ppb = _pool.PagesPerBlock;
        int neededBlocks = pages <= hotRoom ? 0 : ((pages - hotRoom) + ppb - 1) / ppb;
        int free = _pool.FreeCount - neededBlocks;

        // Wear levelling and scrubbing gain no space, so they take a whole slice, only with blocks opened and a pool
        // with room; while firmware calls Maintain, wear levelling is left to those calls.
        bool wearHere = neededBlocks > 0 && firmwareIdle && free >= lowWater && WearLevelingMayRun(free) && WearLevelingDue();
        if (wearHere || (_scrubQueue.Count > 0 && neededBlocks > 0))
        {
            // A bounded slice (PacingPolicy.WearSliceUnits): the victim is remembered and later operations continue it.
            CollectStep(PacingPolicy.WearSliceUnits(_options.MaxForegroundPagesPerOperation), allowWearLeveling: wearHere, urgent: false, eraseMustFit: true);
        }
        else if (free < lowWater)
        {
            int quota = PacedQuota(pages, free, lowWater, checkpointStarts, opensUnerased: neededBlocks > 0 && opensUnerased);
            if (quota > 0 && CollectStep(quota, allowWearLeveling: false, urgent: false, eraseMustFit: true) == 0 && _victim < 0
                && free <= _freeFloor + 1 && _checkpoints.InProgress)
            {
                // Nothing can move yet because the garbage is younger than the last checkpoint: a slice of the
                // checkpoint in progress helps.
                _checkpoints.AdvanceSlice();
            }
        }

        // Mandatory: never let user data eat into the free floor that garbage collection needs to make progress.
        bool checkpointed = false;
        while (_pool.FreeCount - neededBlocks < _freeFloor)
        {
            int moved = CollectStep(ppb, allowWearLeveling: false, urgent: true);
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
    /// Reclaims whole victims until <paramref name="blocks"/> blocks are free, for a checkpoint that must be written
    /// now (the unmount's): paced collection keeps only the free floor, which a large index's checkpoint may not fit
    /// in. Ends when no victim can move (a checkpoint in progress is finished first, which lets the garbage written
    /// before it move); the checkpoint then takes what there is, as it did before.
    /// </summary>
    /// <param name="blocks">Free blocks the checkpoint needs, with the heads' and the next checkpoint's blocks.</param>
    public void ReclaimForCheckpoint(int blocks)
    {
        int ppb = _pool.PagesPerBlock;
        bool finished = false;
        while (_pool.FreeCount < blocks)
        {
            int moved = CollectStep(ppb, allowWearLeveling: false, urgent: true);
            if (moved > 0 || _victim >= 0)
            {
                continue;
            }

            if (!finished && _checkpoints.InProgress)
            {
                finished = true;
                _checkpoints.FinishInProgress();
                continue;
            }

            return;
        }
    }

    /// <summary>
    /// Work units (a page move 1, the victim's erase <see cref="EraseUnits"/>) one operation of <paramref name="pages"/>
    /// pages does with <paramref name="free"/> blocks free, under <paramref name="lowWater"/>: the current victim (picked
    /// if there is none) and the pool as <see cref="PacingState"/>, decided by <see cref="PacingPolicy.Quota"/> (which
    /// says how keeping up, the steady and short-pool caps and a checkpoint in progress or starting
    /// (<paramref name="checkpointStarts"/>) bound it). 0 when there is nothing to do now.
    /// </summary>
    /// <param name="pages">Pages the operation writes.</param>
    /// <param name="free">Free blocks after the ones it opens.</param>
    /// <param name="lowWater">The low-water mark.</param>
    /// <param name="checkpointStarts">A checkpoint starts at its commit.</param>
    /// <param name="opensUnerased">It opens a hot-head block that must be erased first.</param>
    /// <returns>Work units.</returns>
    public int PacedQuota(int pages, int free, int lowWater, bool checkpointStarts = false, bool opensUnerased = false)
    {
        if (_victim < 0 && !PickVictim(allowWearLeveling: false))
        {
            return 0;
        }

        int valid = _blocks.Valid[_victim];
        int gain = Math.Min(valid, _pack?.PackGain(_victim) ?? 0);
        var state = new PacingState(pages, free, lowWater, _freeFloor, valid, gain, _pool.PagesPerBlock, _options.MaxForegroundPagesPerOperation, _checkpoints.InProgress, checkpointStarts, opensUnerased, ColdRoom: _log.ColdRoomBeforeErase);
        return PacingPolicy.Quota(state);
    }

    /// <summary>The work units of an erase (<see cref="PacingPolicy.EraseUnits"/>).</summary>
    public const int EraseUnits = PacingPolicy.EraseUnits;

    /// <summary>
    /// The device time the next unit of <see cref="CollectStep"/> would take (picking a victim if there is none):
    /// a page move (<paramref name="moveNs"/>, plus <paramref name="eraseNs"/> when the cold head must open a block)
    /// or the victim's erase. 0 when there is nothing to do. <see cref="FlashFileSystem.Maintain"/> starts a unit
    /// only when it fits the rest of its budget.
    /// </summary>
    public long NextUnitCost(bool allowWearLeveling, long moveNs, long eraseNs)
    {
        if ((_victim < 0 || !Movable(_victim)) && !PickVictim(allowWearLeveling))
        {
            return 0;
        }

        return _blocks.Valid[_victim] > 0 ? moveNs + (_log.ColdHeadFull ? eraseNs : 0) : eraseNs;
    }

    /// <summary>
    /// Moves up to <paramref name="maxPages"/> live pages out of the current victim block, choosing a new victim when
    /// needed, and erases the victim once it is empty (charged as 8 moves). Returns the pages moved (0 with no victim
    /// means nothing to do). <paramref name="urgent"/>: space is short, so a wear-levelling victim waits when the pool
    /// is nearly empty, and the step ends once one block is reclaimed. <paramref name="eraseMustFit"/>: the victim's
    /// erase (<see cref="EraseUnits"/>) is started only as the step's first unit or when it fits what is left.
    /// </summary>
    public int CollectStep(int maxPages, bool allowWearLeveling, bool urgent, bool eraseMustFit = false)
    {
        int moved = 0;
        while (moved < maxPages)
        {
            if (_victim < 0 && !PickVictim(allowWearLeveling))
            {
                return moved;
            }

            int victim = _victim;
            if (!Movable(victim))
            {
                _victim = -1;
                continue;
            }

            if (urgent && _victimCause == VictimCause.Wear && _pool.FreeCount <= 1)
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
                switch (_victimCause)
                {
                    case VictimCause.Wear: _wearMoves++; break;
                    case VictimCause.Scrub: _scrubMoves++; break;
                    default: _collectMoves++; break;
                }

                continue;
            }

            // Empty: reclaim it. A paced step that moved pages leaves the erase to the next step unless it has room for
            // it (wear-levelling and urgent steps erase at once: on W5 deferring it changed the wear pattern for worse).
            if (eraseMustFit && moved > 0 && moved + EraseUnits > maxPages)
            {
                return moved;
            }

            moved += EraseUnits;
            _victim = -1;
            _pool.ReturnToPool(victim);
            Reclaimed(victim);
            if (_pool.Erase(victim))
            {
                _logger.LogDebug(FfsEvents.GarbageCollection, "Reclaimed block {Block} (erase count {EraseCount})", victim, _blocks.EraseCount[victim]);
            }

            // One block reclaimed a step: packing moves several small files' pages a move, so a slice of moves could
            // otherwise empty and erase several victims in one operation (BoundedMaintenanceTests: 4 erases a create).
            return moved;
        }

        return moved;
    }

    private bool PickVictim(bool allowWearLeveling)
    {
        foreach (int b in _scrubQueue)
        {
            // A head still filling the block would keep it from ever moving: close it, the head opens a new one.
            _log.CloseHeadsIn(b);
            if (Movable(b))
            {
                _victim = b;
                _victimCause = VictimCause.Scrub;
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
                _victimCause = VictimCause.Wear;
                _reclaimsSinceWear = 0;
                WearLevelingMoves++;
                _logger.LogDebug(FfsEvents.WearLeveling, "Wear levelling: moving cold block {Block} (erase count {EraseCount})", coldest, _blocks.EraseCount[coldest]);
                return true;
            }
        }

        int best = VictimPolicy.CollectionVictim(View, _log.Sequence);
        _victim = best;
        _victimCause = VictimCause.Collect;
        return best >= 0;
    }
}

/// <summary>Why the current victim is being moved (its moves are counted by cause).</summary>
internal enum VictimCause
{
    /// <summary>Collection, to reclaim space.</summary>
    Collect,

    /// <summary>Static wear levelling: cold data into a worn block.</summary>
    Wear,

    /// <summary>Scrubbing: pages read with corrected bit errors.</summary>
    Scrub,
}

/// <summary>Pages garbage collection moved since mount, by cause.</summary>
/// <param name="CollectPagesMoved">Moves out of garbage-collection victims (to reclaim space).</param>
/// <param name="WearPagesMoved">Moves out of static wear-levelling victims (cold data into worn blocks).</param>
/// <param name="ScrubPagesMoved">Moves out of blocks queued for scrubbing (pages read with corrected bit errors).</param>
internal readonly record struct GcCounters(long CollectPagesMoved, long WearPagesMoved, long ScrubPagesMoved);

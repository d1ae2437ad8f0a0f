using Flash.Drivers;
using Flash.Ffs.Index;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Blocks;

/// <summary>
/// Owns the block table: which blocks are free, reserved, erased, written, retiring or bad. Every block state change
/// goes through one of its members, each a named transition checked by <see cref="BlockTransitions"/> (an illegal one
/// throws <see cref="IllegalBlockTransitionException"/> before anything changes); the only other writer is the
/// checkpoint decoder loading the table at mount (<see cref="BlockStates.Restore"/>). It chooses free blocks
/// (<see cref="FreeBlockIndex"/>, <see cref="EraseCountSummary"/>), erases them before use, keeps the checkpoint's reservations, and takes failing
/// blocks out of service. It calls only the device; what the layers above must do about a block leaving service goes
/// through <see cref="IBlockRetirementSink"/>; which empty blocks may be reclaimed, garbage collection decides
/// (<see cref="IReclaimPolicy"/>, passed in).
/// </summary>
internal sealed partial class BlockPool : IBlockStateObserver
{
    private readonly IFlashDevice _device;
    private readonly ILogger _log;
    private readonly IBlockRetirementSink _retirement;
    private readonly EraseCheck _check;

    /// <summary>The free blocks by erase count (kept as states, counts and erased flags change).</summary>
    private readonly FreeBlockIndex _free;

    /// <summary>The erase counts of the good blocks outside the anchors.</summary>
    private readonly EraseCountSummary _wear = new();

    /// <summary>Checkpoint blocks claimed without an erase, erased when the checkpoint reaches them (a few at a time).</summary>
    private readonly HashSet<int> _checkpointBlocksToErase = [];

    /// <summary>Whether <see cref="_free"/> and <see cref="_wear"/> follow the table; false after a wholesale load, until the next use rebuilds them.</summary>
    private bool _indexed;

    /// <summary>Writes the refill anchor when a write takes a block outside the pool (the anchor store).</summary>
    private IWritePoolAnchor? _anchor;

    /// <summary>Scratch of <see cref="ChoosePoolForAnchor"/>: a flag per block (all false between calls) and the pool chosen.</summary>
    private bool[]? _poolSeen;
    private int[] _poolChosen = [];

    public BlockPool(IFlashDevice device, ILogger log, IBlockRetirementSink retirement)
    {
        _device = device;
        _log = log;
        _retirement = retirement;
        _check = new EraseCheck(device, log);
        PagesPerBlock = device.Geometry.PagesPerBlock;
        Table = new BlockTable(device.Geometry.BlockCount, PagesPerBlock);
        Table.State.Observer = this;
        _free = new FreeBlockIndex(Table.Count);
        Writes = new WritePool(Table.Count);
    }

    /// <summary>Pages a block.</summary>
    public int PagesPerBlock { get; }

    /// <summary>The per-block bookkeeping (read it freely; change states only through this pool).</summary>
    public BlockTable Table { get; }

    /// <summary>The blocks the last checkpoint reserved for the heads and the next checkpoint.</summary>
    public BlockReservations Reservations { get; } = new();

    /// <summary>The write pool the newest anchor records (see <see cref="WritePool"/>): free blocks are picked from it first.</summary>
    public WritePool Writes { get; private set; } = null!;

    /// <summary>Blocks written between checkpoints (the options' interval): sizes the write pool (<see cref="WritePoolPolicy.Target"/>).</summary>
    public int IntervalBlocks { get; set; } = 16;

    /// <summary>Connects the anchor store that writes refill anchors.</summary>
    public void ConnectAnchor(IWritePoolAnchor anchor) => _anchor = anchor;

    /// <summary>The block garbage collection is emptying (-1: none): the next anchor's pool lists it (see <see cref="ChoosePoolForAnchor"/>).</summary>
    private Func<int>? _emptying;

    /// <summary>Connects garbage collection's current victim, which an anchor's pool lists so that it may be opened as soon as it is erased.</summary>
    public void ConnectEmptying(Func<int> victim) => _emptying = victim;

    /// <summary>Blocks in the free pool (kept as states change, no walk).</summary>
    public int FreeCount => Table.State.FreeCount;

    /// <summary>Good blocks outside the anchors (kept as blocks enter and leave service, no walk).</summary>
    public int GoodBlocks
    {
        get
        {
            EnsureIndexed();
            return _wear.Count;
        }
    }

    /// <summary>Pages found not erased where they should have been, since mount.</summary>
    public long NotErasedFound => _check.NotErasedFound;

    /// <summary>RAM held: this object, the table, the reservations and the erase check's buffers.</summary>
    public long RamBytes
        => RamSize.Object((9 * RamSize.Reference) + 4 + 1) + Table.RamBytes + BlockReservations.RamBytes + _check.RamBytes
            + _free.RamBytes + _wear.RamBytes + RamSize.HashSet(12, _checkpointBlocksToErase.Count);

    /// <summary>
    /// The free block a head opens next: the least-worn one for new writes; for the cold head (relocated, resting data)
    /// the most-worn one whose erase would not set a new device maximum, so that data which will rest a long time lands
    /// on a worn block without pushing that block further ahead of all others (when every free block is at the
    /// maximum, the least-worn one). Among equally worn blocks, one already erased, then the one free longest. Reserved
    /// blocks are skipped unless <paramref name="ignoreReservations"/>. -1 when none is left. Costs a look at the first
    /// bucket of <see cref="FreeBlockIndex"/>, not a walk over the table.
    /// </summary>
    public int PickFree(bool mostWorn, bool ignoreReservations = false)
    {
        EnsureIndexed();
        uint max = _wear.Max;
        if (Writes.Active)
        {
            // The pool's members first; a block outside it costs a refill anchor when it is taken (NoteTaken).
            int member = PickMember(mostWorn && max > 0, max - 1, erasedOnly: false, ignoreReservations ? null : Reservations, exclude: -1);
            if (member >= 0)
            {
                return member;
            }
        }

        return _free.Pick(mostWorn && max > 0, max - 1, erasedOnly: false, ignoreReservations ? null : Reservations, exclude: -1);
    }

    /// <summary>
    /// <see cref="FreeBlockIndex.Pick"/>'s choice among the free members of the write pool: the least-worn one, or
    /// the most-worn one at most <paramref name="cap"/> (the least-worn when none is); of equals an erased one, then
    /// the one listed first. A walk over the pool (tens of entries), not the table.
    /// </summary>
    private int PickMember(bool mostWorn, uint cap, bool erasedOnly, BlockReservations? skip, int exclude)
    {
        int best = -1, fallback = -1;
        foreach (int b in Writes.MemberSpan)
        {
            if (b == exclude || Table.State[b] != BlockState.Free || (erasedOnly && !Table.Erased[b]) || (skip is not null && skip.Holds(b)))
            {
                continue;
            }

            if (Better(b, fallback, mostWorn: false))
            {
                fallback = b;
            }

            if (mostWorn && Table.EraseCount[b] <= cap && Better(b, best, mostWorn: true))
            {
                best = b;
            }
        }

        return best >= 0 ? best : fallback;

        bool Better(int b, int than, bool mostWorn)
        {
            if (than < 0)
            {
                return true;
            }

            uint x = Table.EraseCount[b], y = Table.EraseCount[than];
            return x != y ? (mostWorn ? x > y : x < y) : Table.Erased[b] && !Table.Erased[than];
        }
    }

    /// <summary>
    /// The pool the next anchor records (checkpoint commit: <paramref name="refillFor"/> -1; refill: the block being
    /// taken): what must stay listed, the reservations, then free blocks in the allocator's order (<see cref="WritePoolPolicy.Compose"/>).
    /// False when it does not fit <paramref name="room"/> entries. Allocates nothing once the scratch has grown to the
    /// room (a refill is on the write path); <paramref name="pool"/> is valid until the next call.
    /// </summary>
    /// <param name="room">Pool entries the anchor page has room for.</param>
    /// <param name="checkpointBlocks">Blocks the checkpoint fills.</param>
    /// <param name="refillFor">The block a write is taking (a refill), or -1 (a checkpoint's anchor).</param>
    /// <param name="pool">The pool chosen (empty when none fits).</param>
    public bool ChoosePoolForAnchor(int room, int checkpointBlocks, int refillFor, out ReadOnlySpan<int> pool)
    {
        EnsureIndexed();
        uint max = _wear.Max;
        _poolSeen ??= new bool[Table.Count];
        if (_poolChosen.Length < room)
        {
            _poolChosen = new int[room];
        }

        // A refill keeps what the checkpoint carried and what was taken since, and the block being taken; a
        // checkpoint's anchor keeps only what was taken since its snapshot. The victim garbage collection is emptying
        // is listed too (full now, free within the interval; recovery reads its first tag): issue 19, W5's wear spread
        // 1.115 -> 1.043. It is mostly a wear-levelling victim, the least-worn block of the device; unlisted, it waited
        // for the next anchor while the hot head opened worn members (max - 1, so they set the device maximum), and
        // while it waited the wear rule saw a free block below the mean and moved nothing.
        Span<int> reserved = [refillFor, Reservations.Hot, Reservations.Cold, Reservations.Checkpoint, _emptying?.Invoke() ?? -1];
        int n = WritePoolPolicy.Compose(refillFor >= 0 ? Writes.Carried : [], Writes.Taken, reserved, _free.InOrder(mostWorn: false, uint.MaxValue),
            _free.InOrder(max > 0, max - 1), WritePoolPolicy.Target(IntervalBlocks, checkpointBlocks), room, _poolSeen, _poolChosen);
        pool = n < 0 ? [] : _poolChosen.AsSpan(0, n);
        return n >= 0;
    }

    /// <summary>A checkpoint's anchor was written recording <paramref name="members"/> (<paramref name="active"/> false: no pool).</summary>
    public void PoolCommitted(ReadOnlySpan<int> members, bool active) => Writes.Committed(members, active, Writes.OpenAmongAllowed(b => Table.State[b] == BlockState.Open));

    /// <summary>
    /// Notes that a write takes <paramref name="block"/>; outside an active pool, a refill anchor listing it (and more
    /// free blocks) is written first, so that recovery reads it. Writes no more than that one anchor page: the anchor
    /// store's block switch erases an anchor block, which takes nothing.
    /// </summary>
    private void NoteTaken(int block)
    {
        if (Writes.Active && !Writes.Contains(block) && _anchor is not null)
        {
            _anchor.WriteRefillAnchor(block);
        }

        Writes.Take(block);
    }

    /// <summary>
    /// Debug check of the write pool's invariant before every page program: the block is a member of the newest
    /// anchor's pool, a block open at that anchor, or an anchor block.
    /// </summary>
    /// <exception cref="InvalidOperationException">A page would be programmed where the next recovery does not look.</exception>
    public void CheckMayProgram(int block)
    {
        if (!Writes.MayProgram(block) && Table.State[block] != BlockState.Anchor)
        {
            throw new InvalidOperationException($"A page is programmed in block {block} ({Table.State[block]}), outside the newest anchor's write pool: recovery would not read it.");
        }
    }

    /// <summary>
    /// <see cref="PickFree"/>, or when only reserved blocks are left, one of those (its reservation dropped). Using one
    /// costs the next mount a recovery scan (it sees that block written), never data: better than refusing the write.
    /// -1 when no free block is left at all.
    /// </summary>
    public int PickFreeOrReserved(bool mostWorn)
    {
        int b = PickFree(mostWorn);
        if (b < 0)
        {
            b = PickFree(mostWorn, ignoreReservations: true);
            Reservations.Drop(b);
        }

        return b;
    }

    /// <summary>
    /// An erased free block nobody has reserved and other than <paramref name="exclude"/> (so its first page reads
    /// erased until someone opens it): the most- or least-worn one, the one free longest of equals. -1 when none, and
    /// for the cold head (<paramref name="mostWorn"/>) when the erased block is less worn than the one the cold head
    /// would open otherwise (<see cref="WritePoolPolicy.ColdReservationWornEnough"/>): the head then opens that one.
    /// </summary>
    public int PickReservable(bool mostWorn, int exclude)
    {
        int b = PickErased(mostWorn, exclude);
        if (b < 0 || !mostWorn)
        {
            return b;
        }

        // The cold head's block (data that rests) must be as worn as the one it would open otherwise.
        int next = PickFree(mostWorn: true);
        return WritePoolPolicy.ColdReservationWornEnough(Table.EraseCount[b], next < 0 ? null : Table.EraseCount[next]) ? b : -1;
    }

    /// <summary>An erased free block nobody has reserved other than <paramref name="exclude"/>: the most- or least-worn one (pool members first); -1 when none.</summary>
    private int PickErased(bool mostWorn, int exclude)
    {
        EnsureIndexed();
        if (Writes.Active)
        {
            int member = PickMember(mostWorn, uint.MaxValue, erasedOnly: true, Reservations, exclude);
            if (member >= 0)
            {
                return member;
            }
        }

        return _free.Pick(mostWorn, uint.MaxValue, erasedOnly: true, Reservations, exclude);
    }

    /// <summary>
    /// An erased free block as <see cref="PickReservable"/> finds it (the cold head's wear rule aside), or when no erased block is left, a free one erased now for the purpose (an
    /// erase, 2 ms on the reference part): a reservation is what lets the next mount see that nothing was written after
    /// a checkpoint, so a full checkpoint (an unmount's above all) keeps it at that price. -1 when no free block at all
    /// is left beside the reservations and <paramref name="exclude"/>.
    /// </summary>
    public int ReserveErased(bool mostWorn, int exclude)
    {
        for (int attempt = 0; attempt < 4; attempt++)
        {
            // Any erased block: a full checkpoint keeps its reservations (the wear rule of PickReservable would cost an erase).
            int b = PickErased(mostWorn, exclude);
            if (b >= 0)
            {
                return b;
            }

            b = _free.Pick(mostWorn, uint.MaxValue, erasedOnly: false, Reservations, exclude);
            if (b < 0)
            {
                return -1;
            }

            // A failed erase takes the block out of service; the next attempt picks another.
            Erase(b);
        }

        return -1;
    }

    /// <summary>Highest and mean erase count over the good blocks outside the anchors (kept, no walk).</summary>
    public (uint Max, double Mean) EraseCounts()
    {
        EnsureIndexed();
        return (_wear.Max, _wear.Mean);
    }

    /// <summary>Lowest erase count over the good blocks outside the anchors (kept, no walk).</summary>
    public uint LowestEraseCount()
    {
        EnsureIndexed();
        return _wear.Min;
    }

    /// <summary>Erases a block; a failed erase takes it out of service. Returns whether it is now erased and usable.</summary>
    public bool Erase(int block)
    {
        try
        {
            _device.Erase(block);
            bool indexed = Unindex(block);
            Table.EraseCount[block]++;
            Table.Erased[block] = true;
            Reindex(block, indexed);
            _check.NoteErased(block);
            return true;
        }
        catch (EraseFailedException)
        {
            bool indexed = Unindex(block);
            Table.EraseCount[block]++;
            Reindex(block, indexed);
            MarkBad(block);
            return false;
        }
        catch (BadBlockException)
        {
            MarkFoundBad(block);
            return false;
        }
    }

    /// <summary>Erases <paramref name="block"/> unless it is known erased; false when the erase failed (the block is out of service).</summary>
    public bool EnsureErased(int block) => Table.Erased[block] || Erase(block);

    /// <summary>
    /// Whether <paramref name="page"/> of <paramref name="block"/> can be programmed now (<see cref="EraseCheck"/>).
    /// A block the device reports bad is taken out of service; one found not erased must be left by the caller (it is
    /// erased before its next use).
    /// </summary>
    public bool ReadyToProgram(int block, int page, bool inherited)
    {
        if (_check.NeedsNoCheck(block, page, inherited))
        {
            return true;
        }

        if (_device.IsBad(block))
        {
            _log.LogWarning(FfsEvents.BadBlock, "Block {Block} is marked bad on the device; it is no longer used", block);
            MarkFoundBad(block);
            return false;
        }

        return _check.Verify(block, page, inherited);
    }

    /// <summary>Notes that a block's erased state cannot be trusted any more (a page in it was found written).</summary>
    public void DistrustErased(int block) => SetErased(block, false);

    /// <summary>Format: a block the device reports bad becomes Bad; every other one is erased into the free pool.</summary>
    public void Format(int block)
    {
        if (_device.IsBad(block))
        {
            Table.State.Apply(block, BlockTransition.MarkBad);
        }
        else
        {
            Table.State.Restore(block, BlockState.Free);
            Erase(block);
        }
    }

    /// <summary>A head starts writing into free <paramref name="block"/>; its first page will carry <paramref name="lastSequence"/> + 1.</summary>
    public void Open(int block, ulong lastSequence)
    {
        NoteTaken(block);
        Table.State.Apply(block, BlockTransition.Open);
        Table.Erased[block] = false;
        Table.ClearBlock(block);
        Table.FirstSequence[block] = lastSequence + 1;
        Table.LastSequence[block] = lastSequence;
    }

    /// <summary>A head's block is closed (Open → Full); nothing when the block already left that state (it was retired).</summary>
    public void CloseIfOpen(int block)
    {
        if (Table.State[block] == BlockState.Open)
        {
            Table.State.Apply(block, BlockTransition.Close);
        }
    }

    /// <summary>Puts a block with no live page back in the free pool, its bookkeeping cleared, to be erased before use.</summary>
    public void ReturnToPool(int block)
    {
        Table.State.Apply(block, BlockTransition.Release);
        SetErased(block, false);
        Table.ClearBlock(block);
    }

    /// <summary>
    /// Returns full blocks that hold no live data any more to the free pool without erasing them yet (the erase
    /// happens when the block is opened), where <paramref name="policy"/> (garbage collection) allows it. Keeping
    /// every such block in the pool lets the hot head really take the least-worn and the cold head the most-worn block.
    /// </summary>
    public void ReclaimEmptyBlocks(IReclaimPolicy policy)
    {
        if (Table.EmptiedUnknown)
        {
            // Validity was rebuilt wholesale (mount, repair): seed the candidates with one walk.
            for (int b = 0; b < Table.Count; b++)
            {
                if (Table.Valid[b] == 0 && Table.State[b] == BlockState.Full)
                {
                    Table.MarkEmptied(b);
                }
                else
                {
                    Table.UnmarkEmptied(b);
                }
            }

            Table.EmptiedUnknown = false;
        }

        // In block order, as the walk over the whole table went; one bit a block, 64 at a time.
        var bits = Table.EmptiedBits;
        for (int w = 0; w < bits.Length; w++)
        {
            for (ulong word = bits[w]; word != 0; word &= word - 1)
            {
                int b = (w << 6) + System.Numerics.BitOperations.TrailingZeroCount(word);
                if (Table.Valid[b] != 0 || Table.State[b] != BlockState.Full)
                {
                    // Live again, or no longer a closed block: it comes back when it empties or closes empty.
                    Table.UnmarkEmptied(b);
                }
                else if (policy.MayReclaim(b))
                {
                    ReturnToPool(b);
                    policy.Reclaimed(b);
                    Table.UnmarkEmptied(b);
                }
            }
        }
    }

    /// <summary>
    /// Claims a free block for checkpoint pages, its bookkeeping cleared. One not known erased is erased only when
    /// the checkpoint reaches it (<see cref="PrepareCheckpointBlock"/>), so that starting a checkpoint does not erase
    /// all of its blocks in one operation.
    /// </summary>
    public void ClaimForCheckpoint(int block)
    {
        NoteTaken(block);
        bool erased = Table.Erased[block];
        Table.State.Apply(block, BlockTransition.AssignCheckpoint);
        Table.Erased[block] = false;
        Table.ClearBlock(block);
        if (!erased)
        {
            _checkpointBlocksToErase.Add(block);
        }
    }

    /// <summary>
    /// Before the first page of a claimed checkpoint block is programmed: erases it if it was claimed unerased. False
    /// when that erase failed (the block is out of service: the checkpoint must give up).
    /// </summary>
    public bool PrepareCheckpointBlock(int block)
    {
        if (!_checkpointBlocksToErase.Remove(block))
        {
            // Taken as erased but not erased by this mount: checked as a head's block is (EraseCheck), since damage can
            // make a programmed block read as erased at mount (the damaged-image fuzz: the tags of its pages erased);
            // one found programmed is erased now (a claimed target holds nothing anyone needs).
            int first = block * PagesPerBlock;
            if (_check.NeedsNoCheck(block, first, inherited: false) || _check.Verify(block, first, inherited: false))
            {
                return true;
            }
        }

        if (!Erase(block))
        {
            return false;
        }

        // Its pages are programmed next.
        Table.Erased[block] = false;
        return true;
    }

    /// <summary>The old checkpoint's block goes back to the pool as checkpoint blocks (a new checkpoint failed before its anchor).</summary>
    public void ReinstateCheckpointBlock(int block) => Table.State.Apply(block, BlockTransition.AssignCheckpoint);

    /// <summary>A checkpoint block nothing needs any more goes back to the free pool (its pages stay until the erase).</summary>
    public void ReleaseCheckpointBlock(int block)
    {
        Table.State.Apply(block, BlockTransition.Release);
        _checkpointBlocksToErase.Remove(block);
        SetErased(block, false);
    }

    /// <summary>
    /// A block of an abandoned checkpoint: its pages took sequence numbers up to <paramref name="lastSequence"/> that
    /// recovery must still find, so it is kept as a full block until the next checkpoint covers it.
    /// </summary>
    public void AbandonCheckpointBlock(int block, ulong lastSequence)
    {
        Table.State.Apply(block, BlockTransition.AbandonCheckpoint);
        _checkpointBlocksToErase.Remove(block);
        Table.Erased[block] = false;
        Table.LastSequence[block] = lastSequence;
    }

    /// <summary>One of the two anchor blocks is taken (format, mount).</summary>
    public void AssignAnchor(int block) => Table.State.Apply(block, BlockTransition.AssignAnchor);

    /// <summary>An erased anchor block starts taking anchor pages.</summary>
    public void StartAnchor(int block)
    {
        Table.State.Apply(block, BlockTransition.AssignAnchor);
        Table.Erased[block] = false;
    }

    /// <summary>
    /// Recovery found pages with sequence numbers <paramref name="first"/> to <paramref name="last"/> written in
    /// <paramref name="block"/> after the checkpoint: it is full now and unmovable until the next checkpoint covers
    /// it. A block the checkpoint had as full, or as free and not erased, was erased on the way: its count goes up.
    /// </summary>
    public void WrittenSinceCheckpoint(int block, ulong first, ulong last)
    {
        var state = Table.State[block];
        if ((state == BlockState.Free && !Table.Erased[block]) || state == BlockState.Full)
        {
            bool indexed = Unindex(block);
            Table.EraseCount[block]++;
            Reindex(block, indexed);
        }

        if (state is BlockState.Free or BlockState.Full)
        {
            Table.FirstSequence[block] = first;
        }

        Table.State.Apply(block, BlockTransition.WrittenSinceCheckpoint);
        Table.LastSequence[block] = last;
    }

    /// <summary>
    /// After an unclean shutdown a free block that writes may have taken may have been half-erased or half-written:
    /// each is erased before use. With a write pool, only its members (nothing else was written or erased from an
    /// erased state); without one, every free block.
    /// </summary>
    public void DistrustErasedFreeBlocks(IReadOnlyList<int>? pool = null)
    {
        if (pool is not null)
        {
            foreach (int b in pool)
            {
                if (Table.State[b] == BlockState.Free)
                {
                    SetErased(b, false);
                }
            }

            return;
        }

        for (int b = 0; b < Table.Count; b++)
        {
            if (Table.State[b] == BlockState.Free)
            {
                Table.Erased[b] = false;
            }
        }

        // Once, at recovery: rebuilding is simpler than re-keying every free block.
        _indexed = false;
    }

    /// <summary>
    /// Takes a block whose program failed out of service: it is marked bad at the next checkpoint (until then its
    /// older pages may still be needed to replay the log after a power cut). <see cref="IBlockRetirementSink.BlockRetired"/>
    /// then moves its live pages.
    /// </summary>
    public void Retire(int block)
    {
        Table.State.Apply(block, BlockTransition.Retire);
        _retirement.BlockRetired(block);
    }

    /// <summary>Marks a failed (or finished retiring) block bad in the table and, where it still can, on the chip.</summary>
    public void MarkBad(int block)
    {
        _log.LogWarning(FfsEvents.BadBlock, "Block {Block} retired as bad", block);
        _retirement.BlockMarkedBad(block);
        Table.State.Apply(block, BlockTransition.MarkBad);
        _checkpointBlocksToErase.Remove(block);
        Table.ClearBlock(block);
        try
        {
            _device.MarkBad(block);
        }
        catch (FlashException ex) when (ex is not PowerLossException)
        {
            _log.LogWarning(FfsEvents.BadBlock, ex, "Could not write the bad-block marker of block {Block}", block);
        }
    }

    /// <summary>
    /// Recovery: takes a block the checkpoint recorded as free out of service when the device reports it bad (it went
    /// bad after the checkpoint, e.g. an erase failed), so the mount's statistics and allocator know it at once.
    /// </summary>
    /// <returns>Whether the block is bad.</returns>
    public bool TakeOutIfFoundBad(int block)
    {
        if (!_device.IsBad(block))
        {
            return false;
        }

        _log.LogWarning(FfsEvents.BadBlock, "Block {Block} went bad after the checkpoint; it is no longer used", block);
        MarkFoundBad(block);
        return true;
    }

    /// <summary>A block the device already reports bad: out of service, nothing written.</summary>
    private void MarkFoundBad(int block) => Table.State.Apply(block, BlockTransition.MarkBad);
}

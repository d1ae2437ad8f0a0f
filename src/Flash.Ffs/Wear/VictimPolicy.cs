namespace Flash.Ffs.Wear;

/// <summary>What garbage collection and wear levelling may know about the blocks: read only.</summary>
internal interface IBlockView
{
    /// <summary>Blocks of the volume.</summary>
    int Count { get; }

    /// <summary>Pages a block.</summary>
    int PagesPerBlock { get; }

    /// <summary>Whether the block may be moved now (full, covered by the last checkpoint, nothing pins or holds it).</summary>
    bool Movable(int block);

    /// <summary>Live pages in the block.</summary>
    int Valid(int block);

    /// <summary>The block's erase count.</summary>
    uint EraseCount(int block);

    /// <summary>Sequence number of the block's last written page (its age).</summary>
    ulong LastSequence(int block);

    /// <summary>Live pages that packing the block's small files' inline data would free (<see cref="IPackGain"/>).</summary>
    int PackGain(int block) => 0;
}

/// <summary>
/// How much packing small files' inline data would free: a block of small files written one per page is all live,
/// yet its inline data fits in a seventh of the pages. Implemented by the inline-page reference counts.
/// </summary>
internal interface IPackGain
{
    /// <summary>Live pages of <paramref name="block"/> that packing its inline data would free.</summary>
    int PackGain(int block);
}

/// <summary>
/// The block table as <see cref="IBlockView"/>, with movability decided against the last checkpoint's sequence number.
/// A struct over the live table: building one costs nothing, and the policy functions are generic over it (no boxing).
/// </summary>
internal readonly struct BlockTableView(BlockTable blocks, int pagesPerBlock, ulong checkpointSequence, IPackGain? pack = null) : IBlockView
{
    public int Count => blocks.Count;

    public int PagesPerBlock => pagesPerBlock;

    public bool Movable(int block)
        => blocks.State[block] == BlockState.Full && blocks.LastSequence[block] <= checkpointSequence && blocks.Pinned[block] == 0 && blocks.Held[block] == 0;

    public int Valid(int block) => blocks.Valid[block];

    public uint EraseCount(int block) => blocks.EraseCount[block];

    public ulong LastSequence(int block) => blocks.LastSequence[block];

    public int PackGain(int block) => pack?.PackGain(block) ?? 0;
}

/// <summary>
/// Victim choice and the wear rule as pure functions of a read-only block view (docs/wear.md has the rules and the
/// measurements behind them). The file system applies their answers; nothing here changes state.
/// </summary>
internal static class VictimPolicy
{
    /// <summary>
    /// The garbage-collection victim: the movable block with the most pages to gain (greedy): its dead pages plus
    /// those packing its small files' inline data frees (<see cref="IBlockView.PackGain"/>), ties
    /// going to the block whose data is oldest. With <paramref name="costBenefit"/> the score is Rosenblum and
    /// Ousterhout's cost-benefit instead (free space gained times age, over the cost of copying the live part).
    /// -1 when no block qualifies.
    /// </summary>
    /// <remarks>
    /// Greedy is the steady-state choice: under uniform overwrites it is within a few percent of the best collector
    /// (docs/wear.md has the W9 measurements), and it moves the fewest pages per block reclaimed, which is what bounds
    /// the foreground's paced collection. Cost-benefit prefers old blocks with less garbage; on W9 it raised WA, and
    /// W5's hot data is separated from cold data by the heads (moved pages go to the cold head) and by static wear
    /// levelling, so it is kept for callers that want it, not used by default. Preferring the oldest among equals
    /// packs cold data together in the cold head.
    /// </remarks>
    /// <param name="view">The blocks.</param>
    /// <param name="sequence">The current sequence number (ages are measured against it).</param>
    /// <param name="costBenefit">Score by cost-benefit rather than by dead pages.</param>
    public static int CollectionVictim<TView>(in TView view, ulong sequence, bool costBenefit = false)
        where TView : IBlockView
    {
        int ppb = view.PagesPerBlock;
        int best = -1;
        double bestScore = 0;
        ulong bestLast = ulong.MaxValue;
        for (int b = 0; b < view.Count; b++)
        {
            if (!view.Movable(b))
            {
                continue;
            }

            // Pages packing frees count as dead: moving the block costs about the pages its packed data fills.
            int valid = view.Valid(b) - PackGainOrNone(view, b);
            if (valid >= ppb)
            {
                continue;
            }

            ulong last = view.LastSequence(b);
            double score = costBenefit
                ? (double)(ppb - valid) * (1 + sequence - last) / (ppb + valid)
                : ppb - valid;
            if (score > bestScore || (score == bestScore && last < bestLast))
            {
                bestScore = score;
                bestLast = last;
                best = b;
            }
        }

        return best;
    }

    /// <summary>
    /// Pages a block with no dead pages must gain from packing to be worth moving: a block whose inline data is
    /// already packed (up to the last, partly filled page of each victim) is not moved again for a page or two.
    /// </summary>
    public const int MinPackGain = 4;

    private static int PackGainOrNone<TView>(in TView view, int block)
        where TView : IBlockView
    {
        int gain = view.PackGain(block);
        return gain >= MinPackGain ? gain : 0;
    }

    /// <summary>
    /// The block static wear levelling should move: the least-worn movable block whose data has rested for a while
    /// (last written more than an eighth of the device's pages' worth of writes ago); when there is none, the
    /// least-worn movable block. Ties: the one that has rested longest. -1 when no block is movable.
    /// </summary>
    /// <remarks>
    /// Picking by erase count alone would often pick freshly written hot data (new writes go to the least-worn free
    /// blocks), copy it into the most-worn block and erase that block again as soon as the data is overwritten.
    /// </remarks>
    public static int WearLevelingVictim<TView>(in TView view, ulong sequence)
        where TView : IBlockView
    {
        ulong window = (ulong)view.Count * (ulong)view.PagesPerBlock / 8;
        ulong coldBefore = sequence > window ? sequence - window : 0;
        int cold = -1, any = -1;
        for (int b = 0; b < view.Count; b++)
        {
            if (!view.Movable(b))
            {
                continue;
            }

            if (any < 0 || LessWorn(view, b, any))
            {
                any = b;
            }

            if (view.LastSequence(b) <= coldBefore && (cold < 0 || LessWorn(view, b, cold)))
            {
                cold = b;
            }
        }

        return cold >= 0 ? cold : any;
    }

    /// <summary>
    /// The wear rule: static wear levelling is due when the gap between the most-worn block and the victim passes
    /// <paramref name="threshold"/> and the free pool has run out of blocks below the mean erase count (the block new
    /// writes open next would, once erased, be above the mean; or there is no free block).
    /// </summary>
    /// <param name="maxEraseCount">The highest erase count of a usable block.</param>
    /// <param name="meanEraseCount">The mean erase count of the usable blocks.</param>
    /// <param name="victimEraseCount">The erase count of <see cref="WearLevelingVictim"/>'s block; null when there is none.</param>
    /// <param name="threshold"><see cref="FlashFileSystemOptions.WearLevelingThreshold"/>.</param>
    /// <param name="nextFreeEraseCount">The erase count of the block new writes open next; null when the pool is empty.</param>
    public static bool WearLevelingDue(uint maxEraseCount, double meanEraseCount, uint? victimEraseCount, int threshold, uint? nextFreeEraseCount)
    {
        if (victimEraseCount is not { } victim || maxEraseCount - victim <= (uint)threshold)
        {
            return false;
        }

        return nextFreeEraseCount is not { } next || next + 1.0 > meanEraseCount;
    }

    private static bool LessWorn<TView>(in TView view, int a, int b)
        where TView : IBlockView
        => view.EraseCount(a) < view.EraseCount(b) || (view.EraseCount(a) == view.EraseCount(b) && view.LastSequence(a) < view.LastSequence(b));
}

/// <summary>What one operation's paced collection decides on (<see cref="PacingPolicy.Quota"/>).</summary>
/// <param name="Pages">Pages the operation writes.</param>
/// <param name="Free">Free blocks after the ones the operation opens.</param>
/// <param name="LowWater">Free blocks under which every operation collects (<see cref="GarbageCollector.LowWater"/>).</param>
/// <param name="Reserve">The free floor in blocks (<see cref="PacingPolicy.FreeFloor"/>): the pool is short at it plus one.</param>
/// <param name="Valid">Live pages of the victim.</param>
/// <param name="PackGain">Of those, pages packing its small files' inline data frees.</param>
/// <param name="PagesPerBlock">Pages a block.</param>
/// <param name="MaxForeground"><see cref="FlashFileSystemOptions.MaxForegroundPagesPerOperation"/>.</param>
/// <param name="CheckpointInProgress">An incremental checkpoint is being written (each operation programs a slice of it).</param>
/// <param name="CheckpointStarts">A checkpoint starts at this operation's commit (it programs its fixed part then).</param>
/// <param name="OpensUnerased">The operation opens a block for the hot head that must be erased first (that erase is part of its work).</param>
/// <param name="ColdRoom">Moves the cold head takes before it opens a block that must be erased first (int.MaxValue: none).</param>
internal readonly record struct PacingState(int Pages, int Free, int LowWater, int Reserve, int Valid, int PackGain, int PagesPerBlock, int MaxForeground, bool CheckpointInProgress, bool CheckpointStarts, bool OpensUnerased = false, int ColdRoom = int.MaxValue);

/// <summary>
/// How much garbage collection one foreground operation does, as pure functions (docs/latency.md, "The per-operation
/// bound"). Work is counted in units: a page move 1, an erase <see cref="EraseUnits"/>.
/// </summary>
internal static class PacingPolicy
{
    /// <summary>
    /// The free floor: the most free blocks garbage collection keeps, whatever the reserve. Four is what the working
    /// blocks need (each head's next block, a destination for moved pages, the checkpoint's next block); the rest of
    /// the reserve (<see cref="FlashFileSystemOptions.ReservedBlocks"/>, by default a fiftieth of the device) is a
    /// capacity rule only: user data may not fill it, but it holds garbage like any other block, so victims carry
    /// more dead pages and collection moves fewer live ones (docs/wear.md, "The free floor").
    /// </summary>
    /// <param name="reserve">The reserve in blocks.</param>
    /// <returns>Free blocks the mandatory collection keeps.</returns>
    public static int FreeFloor(int reserve) => Math.Min(reserve, MaxFreeFloor);

    /// <summary>The working blocks (see <see cref="FreeFloor"/>).</summary>
    public const int MaxFreeFloor = 4;

    /// <summary>Blocks above the floor that paced collection keeps free, so the mandatory whole-block step rarely runs.</summary>
    public const int PaceMarginBlocks = 2;

    /// <summary>
    /// Free blocks (after the ones an operation opens) under which every operation collects a paced slice: the floor,
    /// <see cref="PaceMarginBlocks"/>, and the blocks the next checkpoint claims when it starts, so that a checkpoint
    /// can always start without dropping the pool under the floor. No higher: free blocks held back are space victims
    /// do not get to hold garbage in, which raises WA.
    /// </summary>
    /// <param name="floor">The free floor (<see cref="FreeFloor"/>).</param>
    /// <param name="checkpointBlocks">Blocks the next checkpoint claims (0 while one is in progress).</param>
    /// <returns>The low-water mark in blocks.</returns>
    public static int LowWater(int floor, int checkpointBlocks) => floor + PaceMarginBlocks + checkpointBlocks;

    /// <summary>An erase takes about as much device time as eight page moves (2 ms against 0.33 ms on the reference part).</summary>
    public const int EraseUnits = 8;

    /// <summary>Work units one operation does in steady state (about 3.3 ms on the reference part).</summary>
    public const int SteadyUnits = 10;

    /// <summary>
    /// Work units with the pool at the reserve plus one: two steady slices (about 6.6 ms), and three at the reserve
    /// itself (about 10 ms). Before issue 19's tail work these were <c>MaxForeground</c> and twice it (32 and 64 units
    /// by default), which with a checkpoint starting in the same operation made W9's 20 ms operations.
    /// </summary>
    public const int ShortUnits = 2 * SteadyUnits;

    /// <summary>
    /// Work units (a page 1, an erase <see cref="EraseUnits"/>) of an operation that a checkpoint slice fills up to:
    /// a quarter of <c>MaxForeground</c>, at least 2 (8 by default). The slice counts what the operation already did
    /// (<see cref="CheckpointSliceGoesOn"/>), so an operation that collected writes fewer checkpoint pages and one
    /// that did not (W4: no collection) writes the whole slice.
    /// </summary>
    /// <param name="maxForeground"><see cref="FlashFileSystemOptions.MaxForegroundPagesPerOperation"/>.</param>
    /// <returns>Units of the operation a checkpoint slice fills up to.</returns>
    public static int CheckpointSlicePages(int maxForeground) => Math.Max(2, maxForeground / 4);

    /// <summary>
    /// Units an operation's collection leaves for the checkpoint slice while one is in progress (<see cref="Quota"/>):
    /// collection gets the cap less these, at least an erase. Before issue 19's tail work collection did one move
    /// while a checkpoint ran, so the pool fell to the floor during every checkpoint and the short-pool slices
    /// (20 units) landed on operations that also wrote 8-12 checkpoint pages: all of W9's slowest 0.1 % (6.4-8.4 ms).
    /// </summary>
    public const int CheckpointReserveUnits = 2;

    /// <summary>
    /// Whether an operation's checkpoint slice writes another entry: the slice fills the operation up to
    /// <paramref name="slicePages"/> units (<see cref="CheckpointSlicePages"/>), counting what the operation already
    /// did: its collection's moves (1 each) and erases (<see cref="EraseUnits"/> each), and entries its own changes
    /// already wrote (copy-on-write, mostly of files whose pages its collection moved: <paramref name="copiedPages"/>;
    /// they are the checkpoint's progress). Pages the slice programs count 1 each, and reaching a new checkpoint block
    /// an erase (it may have to be erased first); the next entry reaches one when it starts a block or its pages
    /// (<paramref name="entryPages"/>, the most an entry took so far) would not fit in the current one; and the next
    /// entry is written only when its pages fit what is left (an entry of a large file takes several pages). The first entry is always written unless the operation already made
    /// checkpoint progress, or it erased and the entry would open a new block: the checkpoint always advances, and no
    /// operation pays for two erases because of its slice.
    /// </summary>
    /// <param name="slicePages">Units the slice fills the operation up to (<see cref="CheckpointSlicePages"/>).</param>
    /// <param name="movesInOperation">Pages the operation's collection moved.</param>
    /// <param name="erasesInOperation">Erases the operation already did (its collection's, a head's block).</param>
    /// <param name="copiedPages">Checkpoint pages the operation already programmed before its slice (copy-on-write).</param>
    /// <param name="start">Checkpoint pages written when the slice began.</param>
    /// <param name="written">Checkpoint pages written now.</param>
    /// <param name="pagesPerBlock">Pages a block.</param>
    /// <param name="entryPages">Pages the next entry may take (the most one took so far; at least 1).</param>
    /// <returns>Whether to write the next entry.</returns>
    public static bool CheckpointSliceGoesOn(int slicePages, int movesInOperation, int erasesInOperation, int copiedPages, int start, int written, int pagesPerBlock, int entryPages = 1)
    {
        int inBlock = written % pagesPerBlock;
        bool nextOpensBlock = inBlock == 0 || inBlock + Math.Max(1, entryPages) > pagesPerBlock;
        if (written == start && copiedPages == 0)
        {
            return erasesInOperation == 0 || !nextOpensBlock;
        }

        long cost = movesInOperation + ((long)erasesInOperation * EraseUnits) + copiedPages + (written - start);
        for (int i = start; i < written; i++)
        {
            cost += i % pagesPerBlock == 0 ? EraseUnits : 0;
        }

        cost += nextOpensBlock ? EraseUnits : 0;
        return cost + Math.Max(1, entryPages) <= slicePages;
    }

    /// <summary>
    /// The units of <paramref name="s"/>'s operation. Keeping up with a victim of v live pages (less what packing
    /// frees) takes pages * v / (ppb - v) moves; each block under the low-water mark adds one. Capped at
    /// <see cref="SteadyUnits"/>, with its moves or the victim's erase plus a few moves, never a full slice and an erase.
    /// The work of a checkpoint in the same operation comes out of that cap: while one is in progress the operation
    /// also programs a slice of it (which fills the operation up to <see cref="CheckpointSlicePages"/> units), so
    /// collection gets the cap less <see cref="CheckpointReserveUnits"/>, at least an erase (collection keeps up during checkpoints, so the pool does not fall to the floor while one
    /// runs); an operation at whose commit a checkpoint starts (it programs the fixed part then) does one move and no
    /// erase. With the pool at the reserve plus one the cap is <see cref="ShortUnits"/>, at the reserve 3 steady
    /// slices, but never more than <c>MaxForeground</c> (at least an erase), less a checkpoint slice in progress; a
    /// starting checkpoint keeps it to <see cref="SteadyUnits"/> even then. An operation that opens an unerased block
    /// for the hot head pays for that erase: its collection gets the cap less an erase and erases nothing (unless the
    /// pool is at the floor); moves stop before the cold head would open a block that must be erased, and when the
    /// next move opens one it counts that erase: so no operation pays for two erases.
    /// </summary>
    public static int Quota(in PacingState s)
    {
        int ppb = s.PagesPerBlock;
        int valid = s.Valid;
        int gain = Math.Min(valid, s.PackGain);
        int moves = valid > 0 ? Math.Max(1, valid - gain) : 0;
        int dead = Math.Max(1, ppb - valid + gain);
        long keepUp = (((long)Math.Max(1, s.Pages) * moves) + dead - 1) / dead;
        long want = keepUp + Math.Max(0, s.LowWater - s.Free);
        bool short_ = s.Free <= s.Reserve + 1;
        if (!short_ && s.CheckpointStarts)
        {
            return Math.Min(1, valid);
        }

        int cap = !short_
            ? SteadyUnits
            : Math.Max(Math.Min(s.Free <= s.Reserve ? 3 * SteadyUnits : ShortUnits, s.Free <= s.Reserve ? 2 * s.MaxForeground : s.MaxForeground), EraseUnits);
        if (s.CheckpointInProgress)
        {
            cap = Math.Max(EraseUnits, cap - CheckpointReserveUnits);
        }

        if (short_ && s.CheckpointStarts)
        {
            cap = Math.Min(cap, SteadyUnits);
        }

        // The erase of the hot head's next block is the operation's erase: collection adds moves to it, not a second
        // (unless the pool is at the floor).
        bool noErase = s.OpensUnerased && !short_;
        if (noErase)
        {
            cap = Math.Max(1, cap - EraseUnits);
        }

        if (valid == 0)
        {
            return noErase ? 0 : EraseUnits;
        }

        if (want >= moves && moves + EraseUnits <= cap && moves <= s.ColdRoom)
        {
            return moves + EraseUnits;
        }

        // Moves that would make the cold head open a block to erase stop before it, unless the erase is the
        // operation's only one (the first move, with no erase of its own).
        int units = (int)Math.Clamp(want, 1, Math.Min(cap, moves));
        if (units > s.ColdRoom && !short_)
        {
            units = s.ColdRoom > 0 ? s.ColdRoom : (noErase ? 0 : Math.Min(units, Math.Max(1, cap - EraseUnits)));
        }

        return units;
    }

    /// <summary>
    /// Units of one foreground wear-levelling or scrub slice: a steady slice, not <c>MaxForeground</c> (a 32-move
    /// wear slice was 10.6 ms of W9's 13–20 ms operations); the victim is remembered and later operations continue it.
    /// </summary>
    public static int WearSliceUnits(int maxForeground) => Math.Clamp(maxForeground, 1, SteadyUnits);
}

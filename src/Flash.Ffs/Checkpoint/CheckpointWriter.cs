using Flash.Ffs.Blocks;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// Writes checkpoints: the whole index (block table, heads, every entry with its extents) written to fresh blocks,
/// then an anchor page (<see cref="AnchorStore"/>) pointing at it. The anchor append is the commit point: a power cut
/// before it leaves the previous checkpoint current and its blocks untouched. A full checkpoint is written in one go
/// (<see cref="Write"/>); the periodic one incrementally, a slice per operation (CheckpointWriter.Incremental.cs).
/// Open transactions are covered as <see cref="OpenTxnCoverage"/> describes.
/// <para>It owns the checkpoint's state (the current checkpoint's pages and sequence, the one in progress, the blocks
/// filled since) and reads what it records through narrow inputs: the block pool, the heads, the index, the open
/// transactions, the log (whose sequence numbers its pages take) and the id counters it records; it reports to
/// <see cref="VolumeMetrics"/>. Garbage collection asks it for checkpoints through
/// <see cref="ICheckpointTrigger"/>; while an incremental one is in progress it is the index's
/// <see cref="IIndexObserver"/>.</para>
/// </summary>
internal sealed partial class CheckpointWriter : ICheckpointTrigger
{
    private readonly PageIo _io;
    private readonly BlockPool _pool;
    private readonly BlockTable _blocks;
    private readonly Head _hot;
    private readonly Head _cold;
    private readonly IndexMutator _index;
    private readonly NodeTable _nodes;
    private readonly Dictionary<uint, PendingTxn> _openTxns;
    private readonly CheckpointSource _source;
    private readonly AnchorStore _anchors;
    private readonly PageLog _pageLog;
    private readonly IdCounters _ids;
    private readonly VolumeMetrics _metrics;
    private readonly FlashFileSystemOptions _options;
    private readonly ILogger _logger;
    private readonly int _ppb;
    private readonly int _chunk;
    private readonly CheckpointBase _base;
    private IReclaimPolicy? _reclaim;
    private List<int> _pages = [];

    /// <summary>Creates the writer over the components it records.</summary>
    public CheckpointWriter(
        PageIo io, PageLog log, IndexMutator index, Dictionary<uint, PendingTxn> openTxns, IdCounters ids, AnchorStore anchors, VolumeMetrics metrics, FlashFileSystemOptions options, ILogger logger)
    {
        _io = io;
        _pageLog = log;
        _pool = log.Pool;
        _blocks = _pool.Table;
        _hot = log.Hot;
        _cold = log.Cold;
        _index = index;
        _nodes = index.Nodes;
        _openTxns = openTxns;
        _anchors = anchors;
        _ids = ids;
        _metrics = metrics;
        _options = options;
        _logger = logger;
        _ppb = _pool.PagesPerBlock;
        _chunk = io.PayloadSize;
        _source = new CheckpointSource(_blocks, _pool.Reservations, _nodes, index.Lost, _hot, _cold, openTxns, ids, _chunk);
        Coverage = new OpenTxnCoverage(openTxns, _blocks);

        // Told of every change to a field a checkpoint records for a block: a delta lists the blocks changed since its base.
        _base = new CheckpointBase(_blocks.Count);
        _blocks.RecordObserver = _base;

        // Always told: a delta records the entries changed since its base (and copy-on-write needs it while one is written).
        _index.Observer = this;
    }

    /// <summary>The checkpoint's coverage of open transactions.</summary>
    public OpenTxnCoverage Coverage { get; }

    /// <summary>The sequence the current checkpoint describes (only blocks written up to it may move).</summary>
    public ulong Sequence { get; set; }

    /// <summary>
    /// The current checkpoint's pages, a delta's base's first (their blocks are released once the next one commits: a
    /// delta's alone when the next is a delta). Set at mount: the changes since a base are not known then, so the
    /// next checkpoint is a base.
    /// </summary>
    public List<int> Pages
    {
        get => _pages;
        set
        {
            _pages = value;
            _base.Forget();
        }
    }

    /// <summary>Pages of the largest body the next checkpoint may write: the current base's (a delta is at most half of it), or the current checkpoint's when no base is known.</summary>
    public int NextBodyPages => _base.Known ? _base.Pages.Count : _pages.Count;

    /// <summary>Whether the next checkpoints may be deltas (tests turn it off to exercise bases; the policy decides otherwise).</summary>
    public bool DeltasAllowed { get; set; } = true;

    /// <summary>Whether the current checkpoint is a delta (format 5) over a base this mount wrote.</summary>
    public bool CurrentIsDelta => _base.Known && _pages.Count > _base.Pages.Count;

    /// <summary>Blocks filled since the current checkpoint at which the next one is due (<see cref="CheckpointIntervalPolicy"/>).</summary>
    public int IntervalBlocks => CheckpointIntervalPolicy.Blocks(_options.CheckpointIntervalBlocks, CurrentIsDelta ? _pages.Count - _base.Pages.Count : _pages.Count, _ppb);

    /// <summary>Blocks the heads filled since the current checkpoint.</summary>
    public int BlocksSinceCheckpoint { get; set; }

    /// <summary>Entry patches written into deltas since mount (committed or not).</summary>
    public long EntryPatchesWritten { get; private set; }

    /// <summary>Checkpoints committed since mount.</summary>
    public long CheckpointsWritten { get; private set; }

    /// <summary>
    /// The largest checkpoint, in pages: the anchor page lists the blocks it fills (a checkpoint's pages run from the
    /// start of each block in order), 4 bytes a block.
    /// </summary>
    private int MaxPages => (_chunk - AnchorRecord.FixedSize - 4) / 4 * _ppb; // 4: the anchor's pool count (version 5)

    /// <summary>
    /// RAM held: this object and its small parts (source, anchor store, coverage), the current checkpoint's page
    /// list, and the checkpoint in progress.
    /// </summary>
    public long RamBytes
    {
        get
        {
            long ram = RamSize.Object((19 * RamSize.Reference) + (2 * 8) + (4 * 4) + 1)
                + RamSize.Object(7 * RamSize.Reference)                             // the source
                + _anchors.RamBytes + Coverage.RamBytes + RamSize.List(4, _pages.Capacity) + _base.RamBytes;
            if (_pending is { } p)
            {
                ram += p.RamBytes;
            }

            return ram;
        }
    }

    /// <summary>Garbage collection's say over empty blocks, which a checkpoint reclaims before it claims blocks (wired once, after the collector exists).</summary>
    /// <param name="reclaim">The collector.</param>
    public void ConnectReclaim(IReclaimPolicy reclaim) => _reclaim = reclaim;

    /// <summary>
    /// Bytes a base checkpoint of the volume as it is now takes, or a little more: the fixed part (block table, open
    /// transactions), every entry (<see cref="IndexMutator.EntryBytes"/>) and 8 bytes a lost-chunk mark (no less than
    /// the lists take). A function of the current state alone, not of which checkpoints were written before (a base
    /// or a delta, before or after a power cut), so the capacity it leaves users is the same for the same volume
    /// (issue 19). Cheap: no walk of the index after the first call.
    /// </summary>
    /// <returns>The bound in bytes.</returns>
    public long BaseSizeBound() => _source.HeadSize() + _index.EntryBytes + (8L * _index.Lost.Count);

    /// <summary>
    /// The room one checkpoint takes, which the capacity keeps twice (the current one and the next, written before
    /// the current one's blocks are released): one and a half times <see cref="BaseSizeBound"/> (a base and a delta
    /// over it, which is never more than half its base: <see cref="CheckpointKindPolicy.WriteDelta"/>) plus 4 KiB of
    /// slack for growth while one is written in slices and for committed views of files with open handles. A
    /// function of the current state alone (see <see cref="BaseSizeBound"/>).
    /// </summary>
    /// <returns>The estimate in bytes.</returns>
    public int SizeEstimate() => (int)Math.Min(int.MaxValue / 4, (3 * BaseSizeBound() / 2) + 4096);

    /// <summary>Bytes of the fixed part (header, heads, block table, open transactions).</summary>
    /// <returns>The size in bytes.</returns>
    public int HeadSize() => _source.HeadSize();

    /// <summary>
    /// Writes a checkpoint of the committed state. With handles holding uncommitted writes it describes their files
    /// as committed (see <see cref="OpenTxnCoverage"/>); the one written at unmount needs none.
    /// </summary>
    /// <param name="forUnmount">Whether it is the unmount's (recorded as clean).</param>
    public void Write(bool forUnmount)
    {
        using var timer = _metrics.TimeCheckpoint("full");
        if (forUnmount ? _openTxns.Count != 0 : !Coverage.CanCover())
        {
            throw new InvalidOperationException("A checkpoint needs every transaction to be committed.");
        }

        FinishPending();

        for (int attempt = 0; ; attempt++)
        {
            if (TryWrite(forUnmount))
            {
                return;
            }

            if (attempt >= 4)
            {
                throw new FlashFileSystemException("Could not write a checkpoint: too many program failures.");
            }
        }
    }

    private bool TryWrite(bool forUnmount)
    {
        var (previousNext, size, targets, oldBlocks, views, delta) = Plan(mustWrite: true)!.Value;
        Coverage.HoldOpenTxnBlocks();

        // Blocks of the old checkpoint are recorded as free (to erase) in the new one: once the anchor points at the
        // new checkpoint nothing needs them.
        foreach (int b in oldBlocks)
        {
            _pool.ReleaseCheckpointBlock(b);
        }

        int pages = (size + _chunk - 1) / _chunk;
        ulong checkpointSeq = _pageLog.Sequence;
        var body = LittleEndianWriter.Growable(size);
        try
        {
            if (delta is null)
            {
                _source.Serialize(ref body, checkpointSeq, forUnmount, views);
            }
            else
            {
                _source.SerializeDeltaHead(ref body, checkpointSeq, forUnmount, oldBlocks, delta.Base, delta.Changed, delta.Present.Length);
                foreach (uint id in delta.Present)
                {
                    if (_source.SerializeDeltaEntry(ref body, _source.RecordedEntry(id, views)!, views.ContainsKey(id), _base.ChunksOf(id)))
                    {
                        EntryPatchesWritten++;
                    }
                }

                CheckpointCodec.WriteDeleted(ref body, delta.Deleted);
            }

            if (body.Position != size)
            {
                throw new InvalidOperationException($"Checkpoint size mismatch: computed {size}, serialised {body.Position}.");
            }

            // A base starts here, as serialised: the deltas over it list the blocks changed from now on (the old
            // blocks are released: free in RAM, so none is recorded as free although RAM holds it).
            if (delta is null)
            {
                _base.BaseStarted([], DebugTable([]), _ids.NextEntry);
            }

            // The old checkpoint is still current: put its blocks back, take the failed one out of service, try again.
            void GiveUp(int failed, bool markBad)
            {
                foreach (int b in oldBlocks)
                {
                    _pool.ReinstateCheckpointBlock(b);
                }

                foreach (int t in targets.Where(t => t != failed))
                {
                    _pool.ReleaseCheckpointBlock(t);
                }

                if (markBad)
                {
                    _pool.MarkBad(failed);
                }

                _pool.Reservations.Checkpoint = previousNext;
                if (delta is null)
                {
                    _base.BaseAbandoned();
                }
            }

            var written = new List<int>(pages);
            var payload = body.Written;
            for (int i = 0; i < pages; i++)
            {
                int page = (targets[i / _ppb] * _ppb) + (i % _ppb);
                if (i % _ppb == 0 && !_pool.PrepareCheckpointBlock(targets[i / _ppb]))
                {
                    // Its erase failed (it is out of service now): as after a failed program, the old one stays current.
                    GiveUp(page / _ppb, markBad: false);
                    return false;
                }

                int start = i * _chunk;
                var slice = payload.Slice(start, Math.Min(_chunk, payload.Length - start));

                // Taken before the program, as this path always did: a failed page's number stays unused.
                _pageLog.Sequence++;
                var tag = new PageTag { Kind = PageKind.Checkpoint, ObjectId = _anchors.VolumeId, Chunk = (uint)i, Sequence = _pageLog.Sequence };
                try
                {
                    _io.Program(page, slice, tag);
                }
                catch (Drivers.ProgramFailedException)
                {
                    GiveUp(page / _ppb, markBad: true);
                    return false;
                }

                written.Add(page);
            }

            foreach (int t in targets)
            {
                _blocks.LastSequence[t] = _pageLog.Sequence;
            }

            uint crc = Crc32C.Compute(payload);
            WriteAnchor(checkpointSeq, written, payload.Length, crc);

            // Committed. Retiring blocks were recorded as bad; now mark them so on the chip too.
            for (int b = 0; b < _blocks.Count; b++)
            {
                if (_blocks.State[b] == BlockState.Retiring)
                {
                    _pool.MarkBad(b);
                }
            }

            Committed(delta is null, checkpointSeq, written, payload.Length, crc);
            if (delta is null)
            {
                // Recorded as committed views: the live entries' uncommitted changes predate the base, so they are not tracked.
                foreach (uint id in views.Keys)
                {
                    _base.Reshaping(id);
                }
            }

            Sequence = checkpointSeq;
            Coverage.Held.Release(checkpointSeq);
            BlocksSinceCheckpoint = 0;
            CheckpointsWritten++;
            _metrics.CheckpointWritten();
            _logger.LogDebug(FfsEvents.Checkpoint, "Checkpoint ({Kind}) at sequence {Sequence}: {Pages} page(s), {Entries} entries; next blocks hot {Hot}, cold {Cold}, checkpoint {Next}", delta is null ? "base" : "delta", checkpointSeq, pages, _nodes.Count, _hot.ReservedNext, _cold.ReservedNext, _pool.Reservations.Checkpoint);
            return true;
        }
        finally
        {
            body.Dispose();
        }
    }

    /// <summary>
    /// A body committed: a base becomes the current base (its changes since S0 tracked from now on) and the current
    /// checkpoint; a delta is current with its base, whose pages stay claimed.
    /// </summary>
    private void Committed(bool isBase, ulong sequence, List<int> written, int length, uint crc)
    {
        if (isBase)
        {
            var blocks = written.Select(p => p / _ppb).Distinct().ToArray();
            _base.BaseCommitted(new CheckpointBaseRef(sequence, length, crc, written.Count, [.. blocks]), written);
            _pages = written;
        }
        else
        {
            _base.DeltaBytesSince += length;
            _pages = [.. _base.Pages, .. written];
        }
    }

    /// <summary>
    /// Makes a delta's size exact once the blocks it fills are claimed (claiming and releasing blocks changes the
    /// block-table entries it lists): claims another block while it does not fit, releases the last while it fits
    /// in fewer. Terminates: a claimed block is dirty from then on (and listed), so claiming never shrinks the size
    /// and releasing never grows it. False
    /// (the blocks claimed so far stay claimed, for the base written instead) when no block is left.
    /// </summary>
    private bool FitDelta(DeltaPlan delta, List<int> targets, int[] recordFree, ref int size)
    {
        for (; ; )
        {
            FindChangedBlocks(recordFree, delta.Changed);
            size = _source.DeltaHeadSize(delta.Base.Blocks.Length, delta.Changed.Count) + delta.EntryBytes + CheckpointCodec.DeletedListSize(delta.Deleted.Length);
            int need = (((size + _chunk - 1) / _chunk) + _ppb - 1) / _ppb;
            if (need > targets.Count)
            {
                int b = _pool.PickFreeOrReserved(mostWorn: false);
                if (b < 0)
                {
                    return false;
                }

                _pool.ClaimForCheckpoint(b);
                targets.Add(b);
            }
            else if (need < targets.Count && targets.Count > 1)
            {
                _pool.ReleaseCheckpointBlock(targets[^1]);
                targets.RemoveAt(targets.Count - 1);
            }
            else
            {
                return true;
            }
        }
    }

    /// <summary>
    /// What a delta over the current base would record now: the entries changed since the base (and the files with
    /// uncommitted writes) that exist, as committed, and the ids of the others.
    /// </summary>
    private DeltaPlan PlanDelta(Dictionary<uint, Node?> views)
    {
        var ids = new List<uint>(_base.Changed.Count + views.Count);
        ids.AddRange(_base.Changed);
        foreach (uint id in views.Keys)
        {
            if (!_base.Changed.Contains(id))
            {
                ids.Add(id);
            }
        }

        ids.Sort();
        var present = new List<uint>(ids.Count);
        var deleted = new List<uint>();
        int bytes = 0;
        foreach (uint id in ids)
        {
            int entry = _source.DeltaEntrySize(id, views, _base.ChunksOf(id));
            if (entry < 0)
            {
                deleted.Add(id);
            }
            else
            {
                present.Add(id);
                bytes += entry;
            }
        }

        return new DeltaPlan(_base.Reference!, [.. present], [.. deleted], bytes);
    }

    /// <summary>
    /// The blocks a delta over the current base lists (<see cref="CheckpointSource.ChangedBlocks"/>: from the dirty
    /// bitmap, no walk of the table). Debug builds check them against a comparison with the base's whole table.
    /// </summary>
    private void FindChangedBlocks(int[] recordFree, List<int> changed)
    {
        _source.ChangedBlocks(_base.Dirty, _base.RecordedFree, recordFree, changed);
#if DEBUG
        _source.CheckChangedBlocks(_base.Table, recordFree, changed);
#endif
    }

    /// <summary>
    /// Debug builds: checks the index's running count of entry bytes against a walk, and that a base of
    /// <paramref name="size"/> bytes is within <see cref="BaseSizeBound"/> when no committed view stands in for an
    /// entry (the capacity depends on both).
    /// </summary>
    private void DebugCheckEntryBytes(int size, int views)
    {
#if DEBUG
        long walked = _index.CountEntryBytes();
        if (_index.EntryBytes != walked)
        {
            throw new InvalidOperationException($"The index counts {_index.EntryBytes} entry bytes, a walk {walked}: a change bypassed the count.");
        }

        if (views == 0 && size > BaseSizeBound())
        {
            throw new InvalidOperationException($"A base of {size} bytes exceeds the bound of {BaseSizeBound()} the capacity keeps room for.");
        }
#else
        _ = size;
        _ = views;
#endif
    }

    /// <summary>Debug builds: the block table as a base records it, for the check of <see cref="FindChangedBlocks"/>; null in release builds.</summary>
    private byte[]? DebugTable(int[] recordFree)
    {
#if DEBUG
        return _source.RecordedTable(recordFree);
#else
        _ = recordFree;
        return null;
#endif
    }

    /// <summary>
    /// Blocks a delta of <paramref name="deltaBytes"/> and its base hold once it commits, less those a base written
    /// instead would (about the current base's size: what changed replaces what it changes).
    /// </summary>
    private int ExtraBlocksHeldByDelta(int deltaBytes)
    {
        int baseBlocks = _base.Reference!.Blocks.Length;
        return baseBlocks + CheckpointKindPolicy.BodyBlocks(deltaBytes, _chunk, _ppb)
            - CheckpointKindPolicy.BodyBlocks(_base.Reference.Length, _chunk, _ppb);
    }

    /// <summary>Blocks holding no live data: good blocks less the two anchor blocks and the blocks the live pages fill.</summary>
    private long SpareBlocks() => _pool.GoodBlocks - 2 - ((_blocks.LivePages + _ppb - 1) / _ppb);

    /// <summary>The blocks of the current checkpoint the next one releases: a delta's own (its base stays), or all.</summary>
    private int[] BlocksReleasedBy(bool delta)
    {
        var pages = delta ? _pages.Skip(_base.Pages.Count) : _pages;
        return pages.Select(p => p / _ppb).Distinct().ToArray();
    }

    /// <summary>The commit point: the anchor page naming the checkpoint; its tag takes the log's next number.</summary>
    private void WriteAnchor(ulong checkpointSeq, List<int> pages, int length, uint crc)
    {
        _anchors.Write(checkpointSeq, pages, length, crc, _pageLog.Sequence + 1);
        _pageLog.Sequence++;
    }

    /// <summary>
    /// What both kinds of checkpoint do first. Every head must know which block it will open next, so that a mount can
    /// tell from a few page reads whether anything at all was written after this checkpoint; the checkpoint starts in
    /// the block the previous one reserved for it (so a torn checkpoint is detectable). Then the size is taken and the
    /// blocks it will fill are claimed (before serialising, so the block table records them). Returns the previous
    /// checkpoint's reserved block, the body size, the claimed blocks, the previous checkpoint's blocks and the
    /// committed views of files with uncommitted writes.
    /// Throws <see cref="FlashNoSpaceException"/>, reservations unchanged, when the index is too large for one anchor
    /// page or there are not enough free blocks, if <paramref name="mustWrite"/> is set; else returns null (an
    /// incremental checkpoint tries again later).
    /// </summary>
    private (int PreviousNext, int Size, List<int> Targets, int[] OldBlocks, Dictionary<uint, Node?> Views, DeltaPlan? Delta)? Plan(bool mustWrite)
    {
        int previousNext = _pool.Reservations.Checkpoint;
        ReserveNext(_hot, mostWorn: false);
        ReserveNext(_cold, mostWorn: true);
        _pool.Reservations.Checkpoint = _pool.PickReservable(mostWorn: false, exclude: previousNext);

        var views = Coverage.CommittedViews();
        DeltaPlan? delta = null;
        int size = 0;
        if (_base.Known && DeltasAllowed)
        {
            // The delta's size before its blocks are claimed (FitDelta makes it exact): enough to choose the kind.
            delta = PlanDelta(views);
            FindChangedBlocks(BlocksReleasedBy(delta: true), delta.Changed);
            size = _source.DeltaHeadSize(delta.Base.Blocks.Length, delta.Changed.Count + 1) + delta.EntryBytes + CheckpointCodec.DeletedListSize(delta.Deleted.Length);
            if (!CheckpointKindPolicy.WriteDelta(hasBase: true, _base.Reference!.Length, _base.DeltaBytesSince, size)
                || !CheckpointKindPolicy.DeltaHoldsLittleSpare(ExtraBlocksHeldByDelta(size), SpareBlocks()))
            {
                delta = null;
            }
        }

        if (delta is null)
        {
            size = _source.Size(views);
            DebugCheckEntryBytes(size, views.Count);
        }

        int pages = (size + _chunk - 1) / _chunk;
        if (pages > MaxPages)
        {
            return TooLarge(size, previousNext, mustWrite);
        }

        List<int> targets;
        try
        {
            targets = OpenTargets((pages + _ppb - 1) / _ppb, previousNext);
        }
        catch (FlashNoSpaceException ex) when (!mustWrite)
        {
            _logger.LogDebug(FfsEvents.Checkpoint, ex, "No room to start a checkpoint; trying again later");
            return null;
        }

        var oldBlocks = BlocksReleasedBy(delta is not null).Where(b => !targets.Contains(b)).ToArray();
        if (delta is not null)
        {
            // Exact once its blocks are claimed; a delta that would eat the room a base after it needs is a base.
            int nextBaseBlocks = CheckpointKindPolicy.BodyBlocks((long)_base.Reference!.Length + size, _chunk, _ppb);
            if (!FitDelta(delta, targets, oldBlocks, ref size)
                || !CheckpointKindPolicy.DeltaLeavesRoomForBase(_pool.FreeCount, oldBlocks.Length, nextBaseBlocks))
            {
                delta = null;
                size = _source.Size(views);
                pages = (size + _chunk - 1) / _chunk;
                if (pages > MaxPages)
                {
                    // The index outgrew an anchor page's description since the base: as at the start, but with blocks claimed.
                    foreach (int t in targets)
                    {
                        _pool.ReleaseCheckpointBlock(t);
                    }

                    return TooLarge(size, previousNext, mustWrite);
                }

                if (!TopUpTargets(targets, (pages + _ppb - 1) / _ppb, previousNext, mustWrite))
                {
                    return null;
                }

                oldBlocks = BlocksReleasedBy(delta: false).Where(b => !targets.Contains(b)).ToArray();
            }
        }

        if (mustWrite)
        {
            KeepReservations(previousNext);
        }

        return (previousNext, size, targets, oldBlocks, views, delta);
    }

    /// <summary>
    /// Claims (erasing lazily: <see cref="BlockPool.PrepareCheckpointBlock"/>) the blocks a checkpoint of <paramref name="blocksNeeded"/> blocks will fill, starting with the
    /// block the previous checkpoint reserved for it. Throws <see cref="FlashNoSpaceException"/> (claiming nothing)
    /// when there are not enough free blocks.
    /// </summary>
    private List<int> OpenTargets(int blocksNeeded, int previousNext)
    {
        // Blocks that hold nothing live any more are free for the taking (after recovery, before any garbage
        // collection has run, they may be all there is).
        _pool.ReclaimEmptyBlocks(_reclaim ?? throw new InvalidOperationException("The checkpoint writer is not connected to garbage collection."));
        var targets = new List<int>(blocksNeeded);
        while (targets.Count < blocksNeeded)
        {
            int b = targets.Count == 0 && previousNext >= 0 && _blocks.State[previousNext] == BlockState.Free ? previousNext : _pool.PickFreeOrReserved(mostWorn: false);

            if (b < 0)
            {
                foreach (int t in targets)
                {
                    _pool.ReleaseCheckpointBlock(t);
                }

                _pool.Reservations.Checkpoint = previousNext;
                throw new FlashNoSpaceException("No free block for a checkpoint.");
            }

            // Erased when the checkpoint reaches it (PrepareCheckpointBlock), not all at once here.
            _pool.ClaimForCheckpoint(b);
            targets.Add(b);
        }

        return targets;
    }

    /// <summary>The index is too large for one anchor page: throws if <paramref name="mustWrite"/> is set, else logs and returns null.</summary>
    private (int PreviousNext, int Size, List<int> Targets, int[] OldBlocks, Dictionary<uint, Node?> Views, DeltaPlan? Delta)? TooLarge(int size, int previousNext, bool mustWrite)
    {
        _pool.Reservations.Checkpoint = previousNext;
        var tooLarge = new FlashNoSpaceException($"The index ({size} bytes) exceeds the largest checkpoint an anchor page can describe ({MaxPages} pages).");
        if (mustWrite)
        {
            throw tooLarge;
        }

        // An incremental one runs after an operation committed, which must not fail: the next operation that
        // needs space reports it (see EnsureSpace).
        _logger.LogError(FfsEvents.Checkpoint, tooLarge, "No checkpoint possible");
        return null;
    }

    /// <summary>
    /// A delta's blocks become a base's (<see cref="Plan"/>'s fallback): claims more until there are
    /// <paramref name="blocksNeeded"/>, or releases the extra ones. When no free block is left, releases them all and
    /// restores the reservation: throws <see cref="FlashNoSpaceException"/> if <paramref name="mustWrite"/> is set,
    /// else returns false (an incremental checkpoint tries again later).
    /// </summary>
    private bool TopUpTargets(List<int> targets, int blocksNeeded, int previousNext, bool mustWrite)
    {
        while (targets.Count > Math.Max(blocksNeeded, 1))
        {
            _pool.ReleaseCheckpointBlock(targets[^1]);
            targets.RemoveAt(targets.Count - 1);
        }

        while (targets.Count < blocksNeeded)
        {
            int b = _pool.PickFreeOrReserved(mostWorn: false);
            if (b < 0)
            {
                foreach (int t in targets)
                {
                    _pool.ReleaseCheckpointBlock(t);
                }

                targets.Clear();
                _pool.Reservations.Checkpoint = previousNext;
                if (mustWrite)
                {
                    throw new FlashNoSpaceException("No free block for a checkpoint.");
                }

                _logger.LogDebug(FfsEvents.Checkpoint, "No room to start a checkpoint; trying again later");
                return false;
            }

            _pool.ClaimForCheckpoint(b);
            targets.Add(b);
        }

        return true;
    }

    /// <summary>
    /// Fills the reservations no erased block was left for (or that the checkpoint's own blocks took) by erasing free
    /// blocks for them: without all three the next mount takes even a clean unmount for an unclean one and recovers
    /// (issue 19: "The next checkpoint block -1 is missing"), so a full checkpoint pays the erases instead.
    /// </summary>
    private void KeepReservations(int previousNext)
    {
        if (_hot.ReservedNext < 0)
        {
            _hot.ReservedNext = _pool.ReserveErased(mostWorn: false, exclude: previousNext);
        }

        if (_cold.ReservedNext < 0)
        {
            _cold.ReservedNext = _pool.ReserveErased(mostWorn: true, exclude: previousNext);
        }

        if (_pool.Reservations.Checkpoint < 0)
        {
            _pool.Reservations.Checkpoint = _pool.ReserveErased(mostWorn: false, exclude: previousNext);
        }
    }

    private void ReserveNext(Head head, bool mostWorn)
    {
        if (head.ReservedNext >= 0 && _blocks.State[head.ReservedNext] == BlockState.Free && _blocks.Erased[head.ReservedNext])
        {
            return;
        }

        head.ReservedNext = -1;
        head.ReservedNext = _pool.PickReservable(mostWorn, exclude: -1);
    }

    /// <inheritdoc/>
    bool ICheckpointTrigger.InProgress => _pending is not null;

    /// <inheritdoc/>
    void ICheckpointTrigger.AdvanceSlice() => AdvanceSlice();

    /// <inheritdoc/>
    void ICheckpointTrigger.FinishInProgress() => FinishPending();

    /// <inheritdoc/>
    bool ICheckpointTrigger.TryWriteToFreeSpace()
    {
        if ((BlocksSinceCheckpoint > 0 || Coverage.Held.Count > 0) && Coverage.CanCover())
        {
            Write(forUnmount: false);
            return true;
        }

        return false;
    }
}

using Flash.Ffs.Blocks;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>
/// Checkpoints and anchors. A checkpoint is the whole index (block table, heads, every entry with its extents)
/// written to fresh blocks; an anchor page in one of two anchor blocks then points at it. The anchor append is the
/// commit point: a power cut before it leaves the previous checkpoint current and its blocks untouched.
/// </summary>
public sealed partial class FlashFileSystem
{
    /// <summary>The format version written; 2 added the open-transaction list to the checkpoint.</summary>
    private const ushort FormatVersion = CheckpointCodec.Version;

    /// <summary>The oldest format version this library mounts.</summary>
    private const ushort OldestFormatVersion = CheckpointCodec.OldestVersion;
    private const int AnchorSearchBlocks = 16;

    private readonly int[] _anchorBlocks = [-1, -1];
    private int _anchorCurrent;
    private int _anchorWritePointer;

    /// <summary>Whether the rest of the anchor block this mount found was checked to be erased.</summary>
    private bool _anchorTailChecked;
    private List<int> _checkpointPages = [];

    /// <summary>Exact size of the serialised checkpoint body, with files that have uncommitted writes as <paramref name="views"/> says.</summary>
    private int CheckpointSize(Dictionary<uint, Node?> views)
    {
        int size = CheckpointHeadSize();
        foreach (var n in _nodes.Values)
        {
            size += EntrySize(n);
        }

        foreach (var (id, view) in views)
        {
            size += (view is null ? 0 : EntrySize(view)) - EntrySize(_nodes[id]);
        }

        return size;
    }

    /// <summary>The checkpoint size last written, plus slack for growth until the next one (cheap: no walk of the index).</summary>
    private int CheckpointSizeEstimate() => (_lastCheckpointSize * 2) + 4096;

    private int _lastCheckpointSize = 16384;

    /// <summary>
    /// The largest checkpoint, in pages: the anchor page lists the blocks it fills (a checkpoint's pages run from the
    /// start of each block in order), 4 bytes a block.
    /// </summary>
    private int MaxCheckpointPages => (_chunk - AnchorRecord.FixedSize) / 4 * _ppb;

    /// <summary>
    /// Writes a checkpoint of the committed state. With handles holding uncommitted writes it describes their files
    /// as committed (see <see cref="CheckpointCanCoverOpenTxns"/>); the one written at unmount needs none.
    /// </summary>
    private void WriteCheckpoint(bool forUnmount)
    {
        using var timer = FfsMetrics.TimeCheckpoint(this, "full");
        if (forUnmount ? _openTxns.Count != 0 : !CheckpointCanCoverOpenTxns())
        {
            throw new InvalidOperationException("A checkpoint needs every transaction to be committed.");
        }

        FinishPendingCheckpoint();

        for (int attempt = 0; ; attempt++)
        {
            if (TryWriteCheckpoint(forUnmount))
            {
                return;
            }

            if (attempt >= 4)
            {
                throw new FlashFileSystemException("Could not write a checkpoint: too many program failures.");
            }
        }
    }

    private bool TryWriteCheckpoint(bool forUnmount)
    {
        var (previousNext, size, targets, oldBlocks, views) = PlanCheckpoint(mustWrite: true)!.Value;
        int pages = (size + _chunk - 1) / _chunk;
        HoldOpenTxnBlocks();

        // Blocks of the old checkpoint are recorded as free (to erase) in the new one: once the anchor points at the
        // new checkpoint nothing needs them.
        foreach (int b in oldBlocks)
        {
            _pool.ReleaseCheckpointBlock(b);
        }

        ulong checkpointSeq = _seq;
        var body = LittleEndianWriter.Growable(size);
        try
        {
            SerializeCheckpoint(ref body, checkpointSeq, forUnmount, views);
            if (body.Position != size)
            {
                throw new InvalidOperationException($"Checkpoint size mismatch: computed {size}, serialised {body.Position}.");
            }

            _lastCheckpointSize = size;

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
                var tag = new PageTag { Kind = PageKind.Checkpoint, ObjectId = VolumeId, Chunk = (uint)i, Sequence = ++_seq };
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
                _blocks.LastSequence[t] = _seq;
            }

            WriteAnchor(checkpointSeq, written, payload.Length, Crc32C.Compute(payload));

            // Committed. Retiring blocks were recorded as bad; now mark them so on the chip too.
            for (int b = 0; b < _blocks.Count; b++)
            {
                if (_blocks.State[b] == BlockState.Retiring)
                {
                    _pool.MarkBad(b);
                }
            }

            _checkpointPages = written;
            _checkpointSeq = checkpointSeq;
            ReleaseHeldBlocks(checkpointSeq);
            _blocksSinceCheckpoint = 0;
            _checkpointsWritten++;
            FfsMetrics.CheckpointWritten(this);
            _log.LogDebug(FfsEvents.Checkpoint, "Checkpoint at sequence {Sequence}: {Pages} page(s), {Entries} entries; next blocks hot {Hot}, cold {Cold}, checkpoint {Next}", checkpointSeq, pages, _nodes.Count, _hot.ReservedNext, _cold.ReservedNext, _pool.Reservations.Checkpoint);
            return true;
        }
        finally
        {
            body.Dispose();
        }
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
    private (int PreviousNext, int Size, List<int> Targets, int[] OldBlocks, Dictionary<uint, Node?> Views)? PlanCheckpoint(bool mustWrite)
    {
        int previousNext = _pool.Reservations.Checkpoint;
        ReserveNext(_hot, mostWorn: false);
        ReserveNext(_cold, mostWorn: true);
        _pool.Reservations.Checkpoint = _pool.PickReservable(mostWorn: false, exclude: previousNext);

        var views = CommittedViews();
        int size = CheckpointSize(views);
        int pages = (size + _chunk - 1) / _chunk;
        if (pages > MaxCheckpointPages)
        {
            _pool.Reservations.Checkpoint = previousNext;
            var tooLarge = new FlashNoSpaceException($"The index ({size} bytes) exceeds the largest checkpoint an anchor page can describe ({MaxCheckpointPages} pages).");
            if (mustWrite)
            {
                throw tooLarge;
            }

            // An incremental one runs after an operation committed, which must not fail: the next operation that
            // needs space reports it (see EnsureSpace).
            _log.LogError(FfsEvents.Checkpoint, tooLarge, "No checkpoint possible");
            return null;
        }

        List<int> targets;
        try
        {
            targets = OpenCheckpointTargets((pages + _ppb - 1) / _ppb, previousNext);
        }
        catch (FlashNoSpaceException ex) when (!mustWrite)
        {
            _log.LogDebug(FfsEvents.Checkpoint, ex, "No room to start a checkpoint; trying again later");
            return null;
        }

        if (mustWrite)
        {
            KeepReservations(previousNext);
        }

        var oldBlocks = _checkpointPages.Select(p => p / _ppb).Distinct().Where(b => !targets.Contains(b)).ToArray();
        return (previousNext, size, targets, oldBlocks, views);
    }

    /// <summary>
    /// Claims (erasing lazily: <see cref="BlockPool.PrepareCheckpointBlock"/>) the blocks a checkpoint of <paramref name="blocksNeeded"/> blocks will fill, starting with the
    /// block the previous checkpoint reserved for it. Throws <see cref="FlashNoSpaceException"/> (claiming nothing)
    /// when there are not enough free blocks.
    /// </summary>
    private List<int> OpenCheckpointTargets(int blocksNeeded, int previousNext)
    {
        // Blocks that hold nothing live any more are free for the taking (after recovery, before any garbage
        // collection has run, they may be all there is).
        _pool.ReclaimEmptyBlocks(_gc);
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
}

using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// Incremental checkpoints: the periodic checkpoint is written a few pages per operation instead of in one go, so its
/// cost does not grow with the index on any single operation.
/// <para>
/// The checkpoint describes the volume exactly as it was at its start sequence S0, like a synchronous one. The fixed
/// part (header, heads, block table: bounded by the geometry) is serialised and programmed at S0. Entries follow in id
/// order, a slice per operation; an entry that is about to change before its turn is written first, as it was at S0
/// (copy-on-write: while one is in progress the writer is the index's only <see cref="IIndexObserver"/>), and skipped
/// when its turn comes. Entries created after S0 are not part of it. The anchor page commits it as of S0; everything
/// written since S0 is in the log, which a mount replays (the heads recorded at S0 show the writes, so a mount after
/// it recovers instead of trusting it alone).
/// </para>
/// <para>
/// Until the anchor is written the previous checkpoint stays current and its blocks stay claimed in RAM, although the
/// new block table records them as free. A power cut before the anchor loses nothing: the old checkpoint plus the log
/// describe everything, and the new checkpoint's blocks were free in the old table, so recovery scans and ignores them.
/// </para>
/// </summary>
internal sealed partial class CheckpointWriter : IIndexObserver
{
    private PendingCheckpoint? _pending;

    /// <summary>A transaction committed during the current call; its checkpoint step runs once the call's changes are all in RAM.</summary>
    public bool StepDue { get; set; }

    /// <summary>Incremental checkpoints committed.</summary>
    public int IncrementalCheckpointsCommitted { get; private set; }

    /// <summary>The incremental checkpoint being written, or null.</summary>
    public PendingCheckpoint? Pending => _pending;

    /// <summary>
    /// Pages the next unit of the checkpoint in progress programs when it is its commit (the rest of the body, the
    /// deleted list of a delta among it, and the anchor page), or -1 when the next unit is an entry. A budget that
    /// prices units by the largest entry so far would otherwise start a commit of many pages (W9M: 13 pages and an
    /// erase, 6.3 ms on a 5 ms budget).
    /// </summary>
    public int CommitPagesIfNext
    {
        get
        {
            if (_pending is not { } p)
            {
                return -1;
            }

            bool commitNext = p.Delta is { } d ? d.Cursor == d.Present.Length : _nodes.FirstAfter(p.Cursor) is not { } n || n.Id >= p.EndId;
            return commitNext ? ((p.Size + _chunk - 1) / _chunk) - p.Written.Count + 1 : -1;
        }
    }

    /// <summary>
    /// Units of an operation a checkpoint slice fills up to (<see cref="PacingPolicy.CheckpointSlicePages"/>: a quarter
    /// of the foreground page budget, at least 2), counting the operation's own collection (<see cref="AdvanceSlice"/>).
    /// </summary>
    public int SlicePages => PacingPolicy.CheckpointSlicePages(_options.MaxForegroundPagesPerOperation);

    /// <summary>Runs the checkpoint step a commit in this call asked for (at the end of the call, so S0 is a settled state).</summary>
    /// <param name="firmwareMaintains">Whether firmware calls Maintain (then it finishes a checkpoint in progress in idle time).</param>
    /// <param name="movesInOperation">Pages the operation's collection moved (its slice counts them, <see cref="PacingPolicy.CheckpointSliceGoesOn"/>).</param>
    /// <param name="erasesInOperation">Erases the operation already did.</param>
    /// <param name="copiedPages">Checkpoint pages the operation already programmed (copy-on-write entries).</param>
    public void AfterCommit(bool firmwareMaintains, int movesInOperation = 0, int erasesInOperation = 0, int copiedPages = 0)
    {
        if (StepDue)
        {
            StepDue = false;
            Step(firmwareMaintains, movesInOperation, erasesInOperation, copiedPages);
        }
    }

    /// <summary>
    /// The checkpoint step of a committed operation: continues the checkpoint in progress by a bounded slice, or starts
    /// one when <see cref="IntervalBlocks"/> blocks were filled since the last one.
    /// </summary>
    private void Step(bool firmwareMaintains, int movesInOperation, int erasesInOperation, int copiedPages)
    {
        using var timer = _metrics.TimeCheckpoint("step");
        if (_pending is not null)
        {
            // While firmware calls Maintain, it finishes the checkpoint in idle time (it also started it).
            if (!firmwareMaintains)
            {
                AdvanceSlice(movesInOperation, erasesInOperation, copiedPages);
            }
        }
        else if (BlocksSinceCheckpoint >= IntervalBlocks)
        {
            Begin();
        }
    }

    /// <summary>
    /// Writes one foreground slice of the checkpoint in progress: <see cref="SlicePages"/> pages' worth of device time,
    /// where reaching a new checkpoint block counts 8 pages more (it may have to be erased first, which takes about as
    /// long as 8 programs), and what the operation already did counts too (its collection's moves and erases, the
    /// entries it copied on write):
    /// the rule is <see cref="PacingPolicy.CheckpointSliceGoesOn"/>. A slice that reaches a new block writes fewer
    /// pages, and one that would reach one after its first page stops before it, so no operation pays for a full slice
    /// and an erase (issue 19: those were most of W9's operations over 5 ms).
    /// </summary>
    /// <param name="movesInOperation">Pages the operation's collection moved.</param>
    /// <param name="erasesInOperation">Erases the operation already did.</param>
    /// <param name="copiedPages">Checkpoint pages the operation already programmed (copy-on-write entries).</param>
    public void AdvanceSlice(int movesInOperation = 0, int erasesInOperation = 0, int copiedPages = 0)
    {
        var p = _pending!;
        int start = p.Written.Count;
        int last = start, entryPages = 1;
        Advance(int.MaxValue, () =>
        {
            // The most pages an entry took so far in this slice: whether the next one may reach a new block.
            int w = p.Written.Count;
            entryPages = Math.Max(entryPages, w - last);
            last = w;
            return PacingPolicy.CheckpointSliceGoesOn(SlicePages, movesInOperation, erasesInOperation, copiedPages, start, w, _ppb, entryPages);
        });
    }

    /// <summary>Completes the checkpoint in progress, if any (before a synchronous one, unmount, or fsck repairs).</summary>
    public void FinishPending()
    {
        if (_pending is not null)
        {
            Advance(int.MaxValue, () => true);
        }

        // A slice that failed leaves nothing pending; the caller's synchronous checkpoint covers its ground.
    }

    /// <summary>
    /// Starts an incremental checkpoint at the current sequence: claims its blocks and programs the fixed part.
    /// Files with uncommitted writes go in at once, as committed (their handles change them next; see
    /// <see cref="OpenTxnCoverage"/>). Returns false (leaving nothing pending) when no block could be
    /// claimed or a program failed; the next operation tries again.
    /// </summary>
    /// <returns>Whether a checkpoint is now in progress.</returns>
    public bool Begin()
    {
        if (_pending is not null || !Coverage.CanCover())
        {
            return false;
        }

        if (Plan(mustWrite: false) is not { } plan)
        {
            return false;
        }

        var (previousNext, size, targets, oldBlocks, views, delta) = plan;

        int leftOut = views.Count(v => v.Value is null);
        var retiring = Enumerable.Range(0, _blocks.Count).Where(b => _blocks.State[b] == BlockState.Retiring).ToArray();
        uint nodeCount = delta is null ? (uint)(_nodes.Count - leftOut) : (uint)delta.Present.Length;
        var p = new PendingCheckpoint(_pageLog.Sequence, _ids.NextEntry, nodeCount, size, targets, oldBlocks, retiring, previousNext, BlocksSinceCheckpoint, _chunk) { Delta = delta };
        _pending = p;
        Coverage.HoldOpenTxnBlocks();
        var head = LittleEndianWriter.Growable(delta is null ? _source.HeadSize() : 4096);
        try
        {
            if (delta is null)
            {
                // The deltas over it once it commits list the blocks changed from now on (and the old blocks it
                // records as free, compared with the entries it records for them).
                _base.BaseStarted(_source.RecordedFree(oldBlocks), DebugTable(oldBlocks), _ids.NextEntry);
                foreach (uint id in views.Keys)
                {
                    _base.RecordedAsView(id);
                }

                _source.SerializeHead(ref head, p.Sequence, clean: false, oldBlocks, leftOut);
            }
            else
            {
                _source.SerializeDeltaHead(ref head, p.Sequence, clean: false, oldBlocks, delta.Base, delta.Changed, delta.Present.Length);
            }

            Emit(p, head.Written);
        }
        finally
        {
            head.Dispose();
        }

        foreach (var (id, view) in views)
        {
            if (delta is null)
            {
                p.Early.Add(id);
            }
            else if (!delta.Remaining.Remove(id))
            {
                continue;
            }

            if (view is not null)
            {
                EmitNode(p, view);
            }
        }

        if (p.Failed)
        {
            Abandon(p);
            return false;
        }

        return true;
    }

    /// <summary>Writes entries in id order until <paramref name="maxPages"/> pages were programmed or <paramref name="more"/> says stop; commits at the end.</summary>
    /// <param name="maxPages">Pages this slice may program.</param>
    /// <param name="more">Whether to go on (a time budget).</param>
    public void Advance(int maxPages, Func<bool> more)
    {
        var p = _pending!;
        int startPages = p.Written.Count;
        while (!p.Failed && p.Delta is { } d && p.Written.Count - startPages < maxPages && more())
        {
            // A delta's entries in id order; one already written (it changed before its turn) is skipped.
            if (d.Cursor == d.Present.Length)
            {
                Commit(p);
                return;
            }

            uint id = d.Present[d.Cursor++];
            if (d.Remaining.Remove(id))
            {
                if (_nodes.TryGetValue(id, out var node))
                {
                    EmitDeltaEntry(p, node);
                }
                else
                {
                    // Removed since S0 without its copy-on-write hook.
                    p.Failed = true;
                }
            }
        }

        while (!p.Failed && p.Delta is null && p.Written.Count - startPages < maxPages && more())
        {
            var next = _nodes.FirstAfter(p.Cursor);
            if (next is null || next.Id >= p.EndId)
            {
                Commit(p);
                return;
            }

            p.Cursor = next.Id;
            if (!p.Early.Remove(next.Id))
            {
                EmitNode(p, next);
            }
        }

        if (p.Failed)
        {
            Abandon(p);
        }
    }

    /// <summary>Copy-on-write: writes an entry whose turn has not come yet before it changes.</summary>
    /// <param name="node">The entry, as it was at S0 (nothing changed it since, or it was written already).</param>
    public void Changing(Node node)
    {
        CopyOnWrite(node);
        _base.Changing(node.Id);
    }

    /// <summary>Copy-on-write as <see cref="Changing"/>, then the chunks are tracked for the next delta's entry patch.</summary>
    /// <param name="node">The file, as it was at S0.</param>
    /// <param name="first">The first chunk about to change.</param>
    /// <param name="end">One past the last.</param>
    public void ChunksChanging(Node node, uint first, uint end)
    {
        CopyOnWrite(node);
        _base.ChunksChanging(node.Id, first, end);
    }

    /// <summary>Copy-on-write as <see cref="Changing"/>; the next delta writes the entry whole.</summary>
    /// <param name="node">The entry, as it was at S0.</param>
    public void Reshaping(Node node)
    {
        CopyOnWrite(node);
        _base.Reshaping(node.Id);
    }

    /// <summary>Writes an entry whose turn has not come yet before it changes (before its change is tracked: a delta's patch describes it as at S0).</summary>
    private void CopyOnWrite(Node node)
    {
        if (_pending is { } p && p.TakeEarly(node))
        {
            if (p.Delta is null)
            {
                EmitNode(p, node);
            }
            else
            {
                EmitDeltaEntry(p, node);
            }
        }
    }

    private void EmitDeltaEntry(PendingCheckpoint p, Node node)
    {
        var entry = LittleEndianWriter.Growable(256);
        try
        {
            if (_source.SerializeDeltaEntry(ref entry, node, isView: false, _base.ChunksOf(node.Id)))
            {
                EntryPatchesWritten++;
            }

            p.NodesWritten++;
            Emit(p, entry.Written);
        }
        finally
        {
            entry.Dispose();
        }
    }

    private void EmitNode(PendingCheckpoint p, Node node)
    {
        var entry = LittleEndianWriter.Growable(256);
        try
        {
            _source.SerializeNode(ref entry, node);
            p.NodesWritten++;
            Emit(p, entry.Written);
        }
        finally
        {
            entry.Dispose();
        }
    }

    /// <summary>Appends bytes to the checkpoint body, programming each page as it fills.</summary>
    private void Emit(PendingCheckpoint p, ReadOnlySpan<byte> bytes)
    {
        p.Crc.Append(bytes);
        p.Length += bytes.Length;
        while (!bytes.IsEmpty && !p.Failed)
        {
            int n = Math.Min(bytes.Length, _chunk - p.Fill);
            bytes[..n].CopyTo(p.Page.AsSpan(p.Fill));
            p.Fill += n;
            bytes = bytes[n..];
            if (p.Fill == _chunk)
            {
                ProgramPage(p);
            }
        }
    }

    private void ProgramPage(PendingCheckpoint p)
    {
        int i = p.Written.Count;
        if (i / _ppb >= p.Targets.Count)
        {
            // More bytes than the size taken at the start: an entry changed without its copy-on-write hook.
            _logger.LogError(FfsEvents.Checkpoint, "Incremental checkpoint outgrew its {Size} bytes; abandoned", p.Size);
            p.Failed = true;
            return;
        }

        int page = (p.Targets[i / _ppb] * _ppb) + (i % _ppb);
        if (i % _ppb == 0 && !_pool.PrepareCheckpointBlock(p.Targets[i / _ppb]))
        {
            // The block's erase failed and took it out of service (so it is no FailedBlock to mark): give up.
            p.Failed = true;
            return;
        }

        var tag = new PageTag { Kind = PageKind.Checkpoint, ObjectId = _anchors.VolumeId, Chunk = (uint)i, Sequence = _pageLog.Sequence + 1 };
        try
        {
            _io.Program(page, p.Page.AsSpan(0, p.Fill), tag);
            _pageLog.Sequence++;
            p.Written.Add(page);
            p.Fill = 0;
        }
        catch (Drivers.ProgramFailedException)
        {
            // Not here: this may run in the middle of another change. The next step abandons the checkpoint.
            p.Failed = true;
            p.FailedBlock = page / _ppb;
        }
    }

    private void Commit(PendingCheckpoint p)
    {
        if (p.Delta is { } d && !p.Failed)
        {
            var deleted = LittleEndianWriter.Growable(CheckpointCodec.DeletedListSize(d.Deleted.Length));
            try
            {
                CheckpointCodec.WriteDeleted(ref deleted, d.Deleted);
                Emit(p, deleted.Written);
            }
            finally
            {
                deleted.Dispose();
            }
        }

        if (p.Fill > 0)
        {
            ProgramPage(p);
        }

        if (p.Failed || p.Length != p.Size || p.NodesWritten != p.NodeCount)
        {
            if (!p.Failed)
            {
                _logger.LogError(FfsEvents.Checkpoint, "Incremental checkpoint wrote {Length} bytes and {Nodes} entries, expected {Size} and {Count}; abandoned", p.Length, p.NodesWritten, p.Size, p.NodeCount);
            }

            Abandon(p);
            return;
        }

        foreach (int t in p.Targets)
        {
            _blocks.LastSequence[t] = _pageLog.Sequence;
        }

        uint crc = p.Crc.GetCurrentHashAsUInt32();
        WriteAnchor(p.Sequence, p.Written, p.Length, crc);
        EndPending();

        foreach (int b in p.OldBlocks)
        {
            if (_blocks.State[b] == BlockState.Checkpoint)
            {
                _pool.ReleaseCheckpointBlock(b);
            }
        }

        // Only blocks the new block table records as bad may be marked so on the chip; blocks that started retiring
        // since S0 may still hold pages the log after S0 needs.
        foreach (int b in p.RetiringAtStart)
        {
            if (_blocks.State[b] == BlockState.Retiring)
            {
                _pool.MarkBad(b);
            }
        }

        Committed(p.Delta is null, p.Sequence, p.Written, p.Length, crc);
        Sequence = p.Sequence;
        Coverage.Held.Release(p.Sequence);
        BlocksSinceCheckpoint = Math.Max(0, BlocksSinceCheckpoint - p.BlocksAtStart);
        CheckpointsWritten++;
        IncrementalCheckpointsCommitted++;
        _metrics.CheckpointWritten();
        _logger.LogDebug(FfsEvents.Checkpoint, "Incremental checkpoint ({Kind}) at sequence {Sequence}: {Pages} page(s), {Entries} entries", p.Delta is null ? "base" : "delta", p.Sequence, p.Written.Count, p.NodeCount);
    }

    /// <summary>Drops the checkpoint in progress: its blocks go back to the pool once the next checkpoint commits (a failed one is retired).</summary>
    private void Abandon(PendingCheckpoint p)
    {
        EndPending();
        if (p.Delta is null)
        {
            _base.BaseAbandoned();
        }

        foreach (int t in p.Targets)
        {
            if (t == p.FailedBlock)
            {
                _pool.MarkBad(t);
            }
            else if (_blocks.State[t] == BlockState.Checkpoint)
            {
                // Its pages took sequence numbers after the current checkpoint: recovery must still find them (a
                // missing number stops its replay), so the block is erased only once the next checkpoint covers it.
                _pool.AbandonCheckpointBlock(t, _pageLog.Sequence);
            }
        }

        _pool.Reservations.Checkpoint = p.PreviousNext;
        _logger.LogWarning(FfsEvents.Checkpoint, "Incremental checkpoint at sequence {Sequence} abandoned; the previous one stays current", p.Sequence);
    }

    /// <summary>No checkpoint in progress any more (the index keeps reporting changes: the next delta needs them).</summary>
    private void EndPending() => _pending = null;
}

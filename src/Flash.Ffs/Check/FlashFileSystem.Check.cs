using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;

namespace Flash.Ffs;

/// <summary>fsck: verify every record the index points at and the tree itself; optionally repair.</summary>
public sealed partial class FlashFileSystem
{
    /// <summary>
    /// Checks the volume: reads and verifies (ECC, CRC, tag identity) every page the index points at, checks the tree
    /// (parents, names, mappings within file sizes, no page mapped twice) and the block bookkeeping.
    /// </summary>
    /// <param name="repair">
    /// Repair what can be repaired: mappings past a file's end or to unreadable pages are dropped (the file then reports
    /// the lost range as corrupt), bookkeeping is rebuilt, and the result is checkpointed.
    /// </param>
    /// <returns>Every problem found.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "The other overload takes an options object, not more parameters; Check() and Check(repair) stay as shipped.")]
    public FsckReport Check(bool repair = false) => CheckLocked(repair, CancellationToken.None);

    /// <summary>Checks the volume (see <see cref="Check(bool)"/>) with the options given, such as a cancellation token.</summary>
    /// <param name="options">Whether to repair, and what stops the check.</param>
    /// <returns>Every problem found.</returns>
    /// <remarks>The file system is synchronous (device I/O is): there is no asynchronous check; run this on a thread of your choosing.</remarks>
    public FsckReport Check(FsckOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Cancellation.ThrowIfCancellationRequested();
        return CheckLocked(options.Repair, options.Cancellation);
    }

    private FsckReport CheckLocked(bool repair, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            EnsureMounted();
            if (repair)
            {
                EnsureWritable();
                if (_openTxns.Count > 0)
                {
                    throw new InvalidOperationException("Flush every open file before a repairing check.");
                }
            }

            return Guarded(() => CheckCore(repair, cancellationToken));
        }
    }

    private FsckReport CheckCore(bool repair, CancellationToken cancellationToken)
    {
        // A checkpoint in progress is finished first: its blocks then hold a complete checkpoint, and repairs change
        // entries after it rather than under it.
        if (!_options.ReadOnly && _faultReason is null)
        {
            FinishPendingCheckpoint();
        }

        var problems = new List<FsckProblem>();
        var seen = new Dictionary<int, uint>();
        long pages = 0;
        long total = _nodes.Values.Sum(n => (long)(n.Chunks?.Extents.Sum(e => e.Count) ?? 0) + (n.IsInline ? 1 : 0));
        var buffer = new byte[_chunk];
        if (_mountReport.FoundDamage && !_mountDamageRepaired)
        {
            // What the mount's replay met is gone from the index; the report is the only trace of it. A repairing
            // check acknowledges it: its checkpoint makes the recovered state the volume's.
            problems.Add(new FsckProblem(FsckProblemKind.DroppedChanges, null, _mountReport.DamagedPages.Count > 0 ? _mountReport.DamagedPages[0] : -1, $"Mount: {_mountReport}.", repair));
            _mountDamageRepaired = repair;
        }

        foreach (var node in _nodes.Values.ToArray())
        {
            string path = PathOf(node);
            if (node.Id != RootId)
            {
                if (!_nodes.TryGetValue(node.ParentId, out var parent) || !parent.IsDirectory)
                {
                    problems.Add(new FsckProblem(FsckProblemKind.OrphanEntry, path, -1, $"'{node.Name}' (id {node.Id}) has no parent directory.", false));
                }
                else if (parent.Children!.Find(node.NameUtf8) != node)
                {
                    problems.Add(new FsckProblem(FsckProblemKind.DuplicateName, path, -1, $"'{path}' is not reachable by its name.", false));
                }
            }

            if (node.IsInline)
            {
                pages++;
                var status = _io.Read(node.InlinePage, buffer, out var tag);
                bool stale = status == PageReadStatus.Ok && (!_blocks.SequenceFits(node.InlinePage, tag.Sequence)
                    || !MetaRecord.HoldsInline(buffer.AsSpan(0, Math.Min(tag.ByteCount, buffer.Length)), node.Id, node.InlineOffset, node.Size));
                if (status != PageReadStatus.Ok || tag.Kind != PageKind.Meta || node.InlineOffset + node.Size > tag.ByteCount || stale)
                {
                    var kind = status == PageReadStatus.Uncorrectable ? FsckProblemKind.UncorrectablePage : stale ? FsckProblemKind.StalePage : FsckProblemKind.CrcMismatch;
                    problems.Add(new FsckProblem(kind, path, node.InlinePage, $"'{path}': inline data at page {node.InlinePage} is unreadable ({(stale ? "not this entry's record: an older copy or a moved block" : status)}).", repair));
                    if (repair)
                    {
                        ReleaseInline(node.InlinePage);
                        _index.ClearInline(node);
                        _lostChunks.Add((node.Id, 0));
                    }
                }
            }

            if (node.Chunks is not { } map)
            {
                continue;
            }

            uint chunksInFile = (uint)((node.Size + _chunk - 1) / _chunk);
            foreach (var e in map.Extents.ToArray())
            {
                for (int k = 0; k < e.Count; k++)
                {
                    int page = e.Page + k;
                    uint chunk = e.Logical + (uint)k;
                    pages++;
                    if ((pages & 255) == 0)
                    {
                        Progress("check", pages, total);
                        if (!problems.Exists(p => p.Repaired))
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                        }
                    }

                    if (chunk >= chunksInFile)
                    {
                        problems.Add(new FsckProblem(FsckProblemKind.BadMapping, path, page, $"'{path}': chunk {chunk} is mapped beyond the file's size {node.Size}.", repair));
                        if (repair)
                        {
                            _index.RemoveChunk(node, chunk);
                            _blocks.ClearValid(page);
                        }

                        continue;
                    }

                    if (!seen.TryAdd(page, node.Id))
                    {
                        problems.Add(new FsckProblem(FsckProblemKind.DoubleMapping, path, page, $"Page {page} is mapped by '{path}' and by entry {seen[page]}.", false));
                        continue;
                    }

                    var status = _io.Read(page, buffer, out var tag);
                    bool identity = status == PageReadStatus.Ok && tag.Kind == PageKind.Data && tag.ObjectId == node.Id && tag.Chunk == chunk;
                    bool stale = identity && !_blocks.SequenceFits(page, tag.Sequence);
                    if (!identity || stale)
                    {
                        var kind = status switch
                        {
                            PageReadStatus.Uncorrectable => FsckProblemKind.UncorrectablePage,
                            PageReadStatus.CrcMismatch => FsckProblemKind.CrcMismatch,
                            _ when stale => FsckProblemKind.StalePage,
                            _ => FsckProblemKind.TagMismatch,
                        };
                        string what = stale ? $"an older copy (sequence {tag.Sequence}, block written from {_blocks.FirstSequence[page / _ppb]})" : status.ToString();
                        problems.Add(new FsckProblem(kind, path, page, $"'{path}': chunk {chunk} at page {page} is bad ({what}).", repair));
                        if (repair)
                        {
                            _index.RemoveChunk(node, chunk);
                            _blocks.ClearValid(page);
                            _lostChunks.Add((node.Id, chunk));
                        }
                    }
                }
            }
        }

        // Bookkeeping: every live page's block is in a state that may hold data, and counts match.
        var expected = new int[_blocks.Count];
        foreach (int page in seen.Keys)
        {
            expected[page / _ppb]++;
        }

        foreach (int page in _nodes.Values.Where(n => n.IsInline).Select(n => n.InlinePage).Distinct())
        {
            expected[page / _ppb]++;
        }

        for (int b = 0; b < _blocks.Count; b++)
        {
            if (expected[b] != _blocks.Valid[b] && _blocks.Pinned[b] == 0)
            {
                problems.Add(new FsckProblem(FsckProblemKind.BlockState, null, b * _ppb, $"Block {b} counts {_blocks.Valid[b]} live pages; the index points at {expected[b]}.", repair));
            }

            if (expected[b] > 0 && _blocks.State[b] is BlockState.Free or BlockState.Bad or BlockState.Anchor or BlockState.Checkpoint)
            {
                problems.Add(new FsckProblem(FsckProblemKind.BlockState, null, b * _ppb, $"Block {b} is {_blocks.State[b]} but holds {expected[b]} live page(s).", false));
            }
        }

        if (repair && problems.Count > 0)
        {
            RebuildValidity();
            WriteCheckpoint(forUnmount: false);
        }

        Progress("check", pages, total);
        return new FsckReport(problems, _nodes.Count, pages);
    }
}

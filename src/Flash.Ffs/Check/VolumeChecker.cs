using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Recovery;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Check;

/// <summary>
/// fsck: reads and verifies every page the index points at (ECC, CRC, tag identity, the block's erase cycle), checks
/// the tree (parents, names, mappings within file sizes, no page mapped twice) and the block bookkeeping; a repairing
/// check drops what cannot be trusted through <see cref="IndexMutator"/> (releasing inline-page references, recording
/// dropped chunks in <see cref="LostChunks"/>), rebuilds the bookkeeping (<see cref="PageValidity"/>) and checkpoints.
/// One check per instance; it keeps nothing (the facade takes the lock and applies the fault policy around it).
/// </summary>
internal sealed class VolumeChecker
{
    private readonly IndexMutator _index;
    private readonly NodeTable _nodes;
    private readonly BlockTable _blocks;
    private readonly PageIo _io;
    private readonly Action<FlashProgress>? _progress;
    private readonly InlinePageRefs _inline;
    private readonly LostChunks _lost;
    private readonly Action _writeCheckpoint;
    private readonly int _ppb;
    private readonly int _chunk;

    /// <summary>Creates a check of the mounted components.</summary>
    /// <param name="index">The index (repairs change it).</param>
    /// <param name="blocks">The block table.</param>
    /// <param name="io">Page I/O.</param>
    /// <param name="pagesPerBlock">Pages a block.</param>
    /// <param name="progress">Progress callback, or null.</param>
    /// <param name="inline">The inline-page references (a dropped inline entry releases its page).</param>
    /// <param name="lost">The lost chunks (a dropped chunk is recorded, so reads report it as corrupt).</param>
    /// <param name="writeCheckpoint">Writes a checkpoint of the repaired state (the checkpoint writer's full checkpoint).</param>
    public VolumeChecker(IndexMutator index, BlockTable blocks, PageIo io, int pagesPerBlock, Action<FlashProgress>? progress, InlinePageRefs inline, LostChunks lost, Action writeCheckpoint)
    {
        _index = index;
        _nodes = index.Nodes;
        _blocks = blocks;
        _io = io;
        _ppb = pagesPerBlock;
        _chunk = io.PayloadSize;
        _progress = progress;
        _inline = inline;
        _lost = lost;
        _writeCheckpoint = writeCheckpoint;
    }

    /// <summary>Checks, and when <paramref name="repair"/> repairs, the volume.</summary>
    /// <param name="repair">Whether to repair what can be repaired.</param>
    /// <param name="mountDamage">The mount's report when it met damage no repairing check acknowledged yet, else null.</param>
    /// <param name="cancellationToken">Stops the check at its next progress point, before its first repair.</param>
    /// <returns>Every problem found.</returns>
    public FsckReport Run(bool repair, MountReport? mountDamage, CancellationToken cancellationToken)
    {
        var problems = new List<FsckProblem>();
        var seen = new Dictionary<int, uint>();
        long pages = 0;
        long total = _nodes.Values.Sum(n => (long)(n.Chunks?.Extents.Sum(e => e.Count) ?? 0) + (n.IsInline ? 1 : 0));
        var buffer = new byte[_chunk];
        if (mountDamage is not null)
        {
            // What the mount's replay met is gone from the index; the report is the only trace of it. A repairing
            // check acknowledges it: its checkpoint makes the recovered state the volume's.
            problems.Add(new FsckProblem(FsckProblemKind.DroppedChanges, null, mountDamage.DamagedPages.Count > 0 ? mountDamage.DamagedPages[0] : -1, $"Mount: {mountDamage}.", repair));
        }

        foreach (var node in _nodes.Values.ToArray())
        {
            string path = _nodes.PathOf(node);
            CheckPlace(node, path, problems);
            if (node.IsInline)
            {
                pages++;
                CheckInline(node, path, repair, buffer, problems);
            }

            if (node.Chunks is { } map)
            {
                CheckChunks(node, map, path, repair, buffer, seen, ref pages, total, problems, cancellationToken);
            }
        }

        CheckBookkeeping(seen, repair, problems);
        if (repair && problems.Count > 0)
        {
            PageValidity.Rebuild(_blocks, _nodes, _inline);
            _writeCheckpoint();
        }

        _progress?.Invoke(new FlashProgress("check", pages, total));
        return new FsckReport(problems, _nodes.Count, pages);
    }

    /// <summary>An entry other than the root has a directory as parent, which lists it by its name.</summary>
    private void CheckPlace(Node node, string path, List<FsckProblem> problems)
    {
        if (node.Id == FlashFileSystem.RootId)
        {
            return;
        }

        if (!_nodes.TryGetValue(node.ParentId, out var parent) || !parent.IsDirectory)
        {
            problems.Add(new FsckProblem(FsckProblemKind.OrphanEntry, path, -1, $"'{node.Name}' (id {node.Id}) has no parent directory.", false));
        }
        else if (parent.Children!.Find(node.NameUtf8) != node)
        {
            problems.Add(new FsckProblem(FsckProblemKind.DuplicateName, path, -1, $"'{path}' is not reachable by its name.", false));
        }
    }

    /// <summary>A small file's inline data: its metadata page reads back whole, is this entry's record and of its block's erase cycle.</summary>
    private void CheckInline(Node node, string path, bool repair, byte[] buffer, List<FsckProblem> problems)
    {
        var status = _io.Read(node.InlinePage, buffer, out var tag);
        bool stale = status == PageReadStatus.Ok && (!_blocks.SequenceFits(node.InlinePage, tag.Sequence)
            || !MetaRecord.HoldsInline(buffer.AsSpan(0, Math.Min(tag.ByteCount, buffer.Length)), node.Id, node.InlineOffset, node.Size));
        if (status == PageReadStatus.Ok && tag.Kind == PageKind.Meta && node.InlineOffset + node.Size <= tag.ByteCount && !stale)
        {
            return;
        }

        var kind = status == PageReadStatus.Uncorrectable ? FsckProblemKind.UncorrectablePage : stale ? FsckProblemKind.StalePage : FsckProblemKind.CrcMismatch;
        problems.Add(new FsckProblem(kind, path, node.InlinePage, $"'{path}': inline data at page {node.InlinePage} is unreadable ({(stale ? "not this entry's record: an older copy or a moved block" : status)}).", repair));
        if (repair)
        {
            _inline.Release(node.InlinePage);
            _index.ClearInline(node);
            _lost.Add(node.Id, 0);
        }
    }

    /// <summary>
    /// A file's chunk map: every chunk within the size, every page mapped once, read back whole with this file's and
    /// chunk's tag, of its block's erase cycle. A repair drops the mapping (the chunk then reads as corrupt); a page
    /// mapped twice stays with the first entry that maps it.
    /// </summary>
    private void CheckChunks(Node node, ChunkMap map, string path, bool repair, byte[] buffer, Dictionary<int, uint> seen, ref long pages, long total,
        List<FsckProblem> problems, CancellationToken cancellationToken)
    {
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
                    _progress?.Invoke(new FlashProgress("check", pages, total));
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
                    problems.Add(new FsckProblem(FsckProblemKind.DoubleMapping, path, page, $"Page {page} is mapped by '{path}' and by entry {seen[page]}.", repair));
                    if (repair)
                    {
                        // The page stays the first entry's (checked there); this one loses the chunk, which then
                        // reads as corrupt rather than as the other entry's bytes.
                        _index.RemoveChunk(node, chunk);
                        _lost.Add(node.Id, chunk);
                    }

                    continue;
                }

                CheckPage(node, path, page, chunk, repair, buffer, problems);
            }
        }
    }

    private void CheckPage(Node node, string path, int page, uint chunk, bool repair, byte[] buffer, List<FsckProblem> problems)
    {
        var status = _io.Read(page, buffer, out var tag);
        bool identity = status == PageReadStatus.Ok && tag.Kind == PageKind.Data && tag.ObjectId == node.Id && tag.Chunk == chunk;
        bool stale = identity && !_blocks.SequenceFits(page, tag.Sequence);
        if (identity && !stale)
        {
            return;
        }

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
            _lost.Add(node.Id, chunk);
        }
    }

    /// <summary>Every live page's block is in a state that may hold data, and the blocks' live-page counts match the index.</summary>
    private void CheckBookkeeping(Dictionary<int, uint> seen, bool repair, List<FsckProblem> problems)
    {
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
    }
}

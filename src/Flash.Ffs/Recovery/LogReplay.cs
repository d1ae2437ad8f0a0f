using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Recovery;

/// <summary>What a replay applied and what it left out.</summary>
internal sealed class ReplayOutcome
{
    public int Applied;
    public ulong? StoppedAt;

    public List<string> Dropped { get; } = [];

    public List<int> DamagedPages { get; } = [];
}

/// <summary>
/// Replay of the log written after the checkpoint: pages in sequence order, transactions applied at their commit
/// page through <see cref="IndexMutator"/>, and nothing applied from the first page that cannot be accounted for on
/// (see <see cref="ReplayCutoff"/>). One replay per mount; it keeps only the id counters it advances
/// (<see cref="NextId"/>, <see cref="NextTxn"/>), which recovery hands on.
/// </summary>
internal sealed partial class LogReplay
{
    private const uint RootId = FlashFileSystem.RootId;

    private readonly IndexMutator _index;
    private readonly NodeTable _nodes;
    private readonly PageIo _io;
    private readonly FlashFileSystemOptions _options;
    private readonly ILogger _log;
    private readonly int _chunk;

    /// <summary>Creates the replay over the index restored from the checkpoint.</summary>
    /// <param name="index">The index, as the checkpoint left it.</param>
    /// <param name="io">Page I/O (replay reads the payloads it must verify).</param>
    /// <param name="options">Progress callback and mount cancellation.</param>
    /// <param name="log">Where dropped changes are logged.</param>
    /// <param name="nextId">The checkpoint's next entry id.</param>
    /// <param name="nextTxn">The checkpoint's next transaction id.</param>
    public LogReplay(IndexMutator index, PageIo io, FlashFileSystemOptions options, ILogger log, uint nextId, uint nextTxn)
    {
        _index = index;
        _nodes = index.Nodes;
        _io = io;
        _options = options;
        _log = log;
        _chunk = io.PayloadSize;
        NextId = nextId;
        NextTxn = nextTxn;
    }

    private enum ReplayKind
    {
        Data,
        Inode,
        Delete,
        InlineMove,
    }

    /// <summary>The next entry id: above every id the checkpoint and the log used, applied or not.</summary>
    public uint NextId { get; private set; }

    /// <summary>The next transaction id: above every transaction id the checkpoint and the log used.</summary>
    public uint NextTxn { get; private set; }

    private sealed record ReplayOp(ReplayKind Kind, uint Id, uint Chunk, int Page, uint Parent = 0, bool IsDirectory = false, long Size = 0, string Name = "", bool HasInline = false, int InlineOffset = 0, bool IsChunked = false);

    /// <summary>
    /// Applies <paramref name="logged"/> (sorted by sequence) up to the cutoff of <paramref name="lost"/>: a change
    /// whose commit page has a sequence at or above it is dropped, and so is every transaction in
    /// <paramref name="distrusted"/> (open at the checkpoint with a page that could not be read) or in the account's
    /// incomplete ones (they lost a data page whose tag cannot be read). A metadata page that cannot be read moves the
    /// cutoff down to itself. A data page that cannot be read drops its change (its whole transaction), and later
    /// changes that depend on a dropped one are dropped too (<see cref="ReplayDependencies"/>).
    /// </summary>
    public void Run(List<LoggedPage> logged, LostPageAccount lost, IReadOnlySet<uint> distrusted, ReplayOutcome outcome)
    {
        ulong cutoff = lost.Cutoff;
        foreach (var (after, before, count) in lost.LostCopies)
        {
            // Garbage-collection copies change nothing: the entries they moved keep their earlier pages, which reads verify.
            _log.LogWarning(FfsEvents.RecoveryDropped, "{Count} garbage-collection cop(ies) between sequences {After} and {Before} cannot be read; the entries keep their earlier pages", count, after, before);
            outcome.Dropped.Add($"{count} garbage-collection cop(ies) between sequences {after} and {before}, unreadable (the entries keep their earlier pages)");
        }

        var pending = new Dictionary<uint, List<ReplayOp>>();
        var dependencies = new ReplayDependencies();
        var buffer = new byte[_chunk];
        long done = 0;
        foreach (var entry in logged)
        {
            var tag = entry.Tag;

            // Ids of everything seen stay used, applied or not: a dropped change's pages must never pass for a new file's.
            NextTxn = Math.Max(NextTxn, tag.TxnId + 1);
            if (tag.Kind == PageKind.Data)
            {
                NextId = Math.Max(NextId, tag.ObjectId + 1);
            }

            if (tag.Sequence >= cutoff)
            {
                if (tag.TxnId == 0 || tag.IsCommit)
                {
                    outcome.Dropped.Add(DescribeDropped(tag));
                }

                continue;
            }

            var ops = new List<ReplayOp>(1);
            string? damage = null;
            if (tag.Kind == PageKind.Data)
            {
                ops.Add(new ReplayOp(ReplayKind.Data, tag.ObjectId, tag.Chunk, entry.Page));
                if (tag.TxnId == 0 && tag.IsRelocated && !ReplayPageIntact(entry, buffer))
                {
                    NoteDamagedReplayPage(entry, outcome);
                    damage = "its data page cannot be read";
                }
            }
            else
            {
                bool intact = ReplayPageIntact(entry, buffer);
                if (!intact && tag.IsRelocated && tag.TxnId == 0)
                {
                    // Garbage collection's copy of a small file's inline data: like a relocated data page, the entry
                    // keeps its earlier record, which reads verify; nothing later depends on the copy.
                    NoteDamagedReplayPage(entry, outcome);
                    outcome.Dropped.Add($"{DescribeDropped(tag)}, a relocated copy that cannot be read (the entry keeps its earlier page)");
                    continue;
                }

                if (!intact)
                {
                    _log.LogWarning(FfsEvents.RecoveryDropped, "Metadata page {Page} (sequence {Sequence}) is unreadable; replay stops there", entry.Page, tag.Sequence);
                    outcome.DamagedPages.Add(entry.Page);
                    cutoff = tag.Sequence;
                    if (tag.TxnId == 0 || tag.IsCommit)
                    {
                        outcome.Dropped.Add(DescribeDropped(tag));
                    }

                    continue;
                }

                var payload = buffer.AsSpan(0, tag.ByteCount);
                for (int offset = 0; MetaRecord.TryRead(payload, offset, out var rec, out int length); offset += length)
                {
                    NextId = Math.Max(NextId, rec.Id + 1);
                    ops.Add(rec.Type switch
                    {
                        MetaRecordType.Inode => new ReplayOp(ReplayKind.Inode, rec.Id, 0, entry.Page, rec.ParentId, rec.IsDirectory, rec.Size, rec.Name, rec.HasInline, rec.InlineOffset, rec.IsChunked),
                        MetaRecordType.Delete => new ReplayOp(ReplayKind.Delete, rec.Id, 0, entry.Page),
                        _ => new ReplayOp(ReplayKind.InlineMove, rec.Id, 0, entry.Page, InlineOffset: rec.InlineOffset),
                    });
                }
            }

            if (tag.TxnId == 0)
            {
                if (damage is not null && tag.IsRelocated)
                {
                    // A copy that moved data without changing it: the entry keeps the place it had before, which
                    // reads verify, so nothing later depends on the copy.
                    outcome.Dropped.Add($"{DescribeDropped(tag)}, a relocated copy that cannot be read (the entry keeps its earlier page)");
                }
                else
                {
                    ApplyOrDropChange(ops, tag, damage, dependencies, outcome, buffer);
                }

                outcome.Applied++;
            }
            else
            {
                if (!pending.TryGetValue(tag.TxnId, out var list))
                {
                    pending[tag.TxnId] = list = [];
                }

                list.AddRange(ops);
                outcome.Applied++;
                if (tag.IsCommit)
                {
                    string? txnDamage = distrusted.Contains(tag.TxnId) ? "open at the checkpoint with a page that cannot be read"
                        : lost.Incomplete.Contains(tag.TxnId) ? "a data page of it cannot be read (its tag is damaged)" : null;
                    if (txnDamage is not null && lost.Incomplete.Contains(tag.TxnId))
                    {
                        _log.LogWarning(FfsEvents.RecoveryDropped, "Transaction {Txn} (committed at sequence {Sequence}) lost a data page to a damaged tag; it is dropped", tag.TxnId, tag.Sequence);
                    }

                    ApplyOrDropChange(list, tag, txnDamage, dependencies, outcome, buffer);

                    pending.Remove(tag.TxnId);
                }
            }

            if ((++done & 255) == 0)
            {
                _options.Progress?.Invoke(new FlashProgress("recovery-replay", done, logged.Count));
                _options.MountCancellation.ThrowIfCancellationRequested();
            }
        }

        if (cutoff != ulong.MaxValue)
        {
            outcome.StoppedAt = cutoff;
        }

        // Entries created by a committed transaction are linked; placeholders of anything else are dropped.
        foreach (var orphan in _nodes.Values.Where(n => n.Id != RootId && (n.ParentId == 0 || !_nodes.ContainsKey(n.ParentId))).ToArray())
        {
            _index.RemoveTree(orphan);
        }
    }

    private static string DescribeDropped(PageTag tag)
        => tag.TxnId == 0
            ? $"{(tag.Kind == PageKind.Data ? "data" : "metadata")} page of entry {tag.ObjectId} at sequence {tag.Sequence}"
            : $"transaction {tag.TxnId} committed at sequence {tag.Sequence}";

    private void ApplyReplayed(ReplayOp op, ulong commitSeq)
    {
        NextId = Math.Max(NextId, op.Id + 1);
        switch (op.Kind)
        {
            case ReplayKind.Data:
            {
                var node = ReplayNode(op.Id, isDirectory: false);
                if (node.IsDirectory)
                {
                    return;
                }

                _index.SetChunk(node, op.Chunk, op.Page);
                _index.SetModified(node, commitSeq);
                break;
            }

            case ReplayKind.Inode:
            {
                var node = ReplayNode(op.Id, op.IsDirectory);
                if (node.IsDirectory != op.IsDirectory)
                {
                    _index.RemoveTree(node);
                    node = ReplayNode(op.Id, op.IsDirectory);
                }

                if (_nodes.TryGetValue(op.Parent, out var parent) && parent.IsDirectory)
                {
                    // Out of its old directory first: the entry it replaces may be that directory.
                    _index.Detach(node);
                    if (parent.Children!.TryGetValue(op.Name, out var other) && other != node)
                    {
                        _index.RemoveTree(other);
                    }

                    _index.Move(node, parent, op.Name);
                }

                _index.SetSize(node, op.Size);
                _index.SetModified(node, commitSeq);
                if (op.HasInline)
                {
                    _index.DropChunks(node);
                    _index.SetInline(node, op.Page, op.InlineOffset);
                }
                else if (op.IsChunked)
                {
                    _index.ClearInline(node);
                    if (node.Chunks is null)
                    {
                        _index.StartChunks(node);
                    }

                    _index.TruncateChunks(node, (uint)((op.Size + _chunk - 1) / _chunk), null);
                }

                break;
            }

            case ReplayKind.Delete:
                if (_nodes.TryGetValue(op.Id, out var gone) && gone.Id != RootId)
                {
                    _index.RemoveTree(gone);
                }

                break;

            case ReplayKind.InlineMove:
                if (_nodes.TryGetValue(op.Id, out var moved) && moved.IsInline)
                {
                    _index.SetInline(moved, op.Page, op.InlineOffset);
                }

                break;
        }
    }

    private Node ReplayNode(uint id, bool isDirectory)
    {
        if (!_nodes.TryGetValue(id, out var node))
        {
            node = new Node(id, 0, "", isDirectory);
            _index.AddUnlisted(node);
        }

        return node;
    }
}

using Flash.Drivers;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;

namespace Flash.Ffs;

/// <summary>
/// Checkpoints taken while file handles hold uncommitted writes. Garbage collection may only move blocks a
/// checkpoint covers, so a checkpoint that waited for every handle to flush could wait for ever (writers taking
/// turns keep one open at every moment) and a small volume would run out of space with its garbage pinned.
/// <para>
/// A checkpoint therefore describes each such file as committed: its size and data before the handle's first change
/// (the superseded references the transaction keeps, minus the pages it wrote itself); a file the handle created is
/// left out. It also lists each open transaction with the blocks holding its pages so far, and those blocks stay
/// where they are (held) until a checkpoint that no longer lists the transaction commits. When a transaction's commit page comes after the checkpoint,
/// recovery takes its earlier pages from the listed blocks (tags with its id and a sequence up to the checkpoint's)
/// and replays them with the rest; without a commit they are dropped like any uncommitted transaction.
/// </para>
/// </summary>
public sealed partial class FlashFileSystem
{
    /// <summary>Open transactions and their blocks as a mounted checkpoint listed them (used once, by recovery).</summary>
    private List<(uint Txn, int[] Blocks)> _openAtCheckpoint = [];

    /// <summary>Blocks held for ended transactions, released by the first checkpoint at or after the sequence given.</summary>
    private readonly List<(ulong Until, List<int> Blocks)> _heldForEndedTxns = [];

    /// <summary>Checkpoints started while handles held uncommitted writes (test hook).</summary>
    internal int CheckpointsOverOpenTransactions { get; private set; }

    /// <summary>
    /// Whether a checkpoint can describe the committed state now: every open transaction is a file handle's, one per
    /// file, and no other change has written a record of its file meanwhile (a rename records the size the handle
    /// made, which is no longer the "before" the transaction kept).
    /// </summary>
    private bool CheckpointCanCoverOpenTxns()
    {
        foreach (var t in _openTxns.Values)
        {
            if (t.Node is null || t.Tainted)
            {
                return false;
            }

            foreach (var other in _openTxns.Values)
            {
                if (other != t && other.Node == t.Node)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>A change records <paramref name="node"/> while handles may hold uncommitted writes to it.</summary>
    private void TaintOpenTxns(Node node)
    {
        foreach (var t in _openTxns.Values)
        {
            if (t.Node == node)
            {
                t.Tainted = true;
            }
        }
    }

    /// <summary>
    /// The entries of files with uncommitted writes, as committed: id to a detached copy of the entry as it was before
    /// the handle's first change, or to null for a file the handle created. Empty when no transaction is open.
    /// </summary>
    private Dictionary<uint, Node?> CommittedViews()
    {
        var views = new Dictionary<uint, Node?>();
        foreach (var t in _openTxns.Values)
        {
            var n = t.Node!;
            views[n.Id] = t.Created ? null : CommittedView(t, n);
        }

        return views;
    }

    private static Node CommittedView(PendingTxn t, Node n)
    {
        var view = new Node(n.Id, n.ParentId, n.NameUtf8, isDirectory: false) { Size = t.CommittedSize, ModificationSequence = n.ModificationSequence };
        foreach (var old in t.Released)
        {
            if (old.Inline)
            {
                view.InlinePage = old.Page;
                view.InlineOffset = old.InlineOffset;
                return view;
            }
        }

        if (n.IsInline)
        {
            view.InlinePage = n.InlinePage;
            view.InlineOffset = n.InlineOffset;
            return view;
        }

        if (!t.CommittedChunked)
        {
            return view;
        }

        // Committed chunks: those still mapped that the transaction did not write, and those it superseded.
        var pairs = new List<(uint Chunk, int Page)>();
        if (n.Chunks is { } map)
        {
            foreach (var e in map.Extents)
            {
                for (int k = 0; k < e.Count; k++)
                {
                    if (!t.Own.Contains(e.Page + k))
                    {
                        pairs.Add((e.Logical + (uint)k, e.Page + k));
                    }
                }
            }
        }

        foreach (var old in t.Released)
        {
            pairs.Add((old.Chunk, old.Page));
        }

        pairs.Sort();
        view.Chunks = new ChunkMap();
        foreach (var (chunk, page) in pairs)
        {
            view.Chunks.Set(chunk, page);
        }

        return view;
    }

    /// <summary>The entry a checkpoint records for <paramref name="n"/>: itself, its committed view, or nothing.</summary>
    private static bool TryEntryFor(Node n, Dictionary<uint, Node?> views, out Node? entry)
    {
        entry = views.TryGetValue(n.Id, out var view) ? view : n;
        return entry is not null;
    }

    /// <summary>
    /// Keeps every block holding pages of an open transaction where it is (BlockTable.Held): the checkpoint being taken
    /// lists them for recovery. They stay held after the transaction ends, until a checkpoint that no longer lists it
    /// commits (see <see cref="EndTxn"/>).
    /// </summary>
    private void HoldOpenTxnBlocks()
    {
        if (_openTxns.Count > 0)
        {
            CheckpointsOverOpenTransactions++;
        }

        foreach (var t in _openTxns.Values)
        {
            for (; t.HeldBlocks < t.Blocks.Count; t.HeldBlocks++)
            {
                _blocks.Held[t.Blocks[t.HeldBlocks]]++;
            }
        }
    }

    /// <summary>A checkpoint taken at <paramref name="sequence"/> committed: the ended transactions it no longer lists let go of their blocks.</summary>
    private void ReleaseHeldBlocks(ulong sequence)
    {
        _heldForEndedTxns.RemoveAll(held =>
        {
            if (held.Until > sequence)
            {
                return false;
            }

            foreach (int b in held.Blocks)
            {
                // A block retired meanwhile was cleared; its count is already gone.
                if (_blocks.Held[b] > 0)
                {
                    _blocks.Held[b]--;
                }
            }

            return true;
        });
    }

    /// <summary>
    /// Recovery: the pages that transactions open at the checkpoint wrote before it, from the blocks it lists. They
    /// join the log (their sequences sort them first) and apply only if their transaction's commit page follows.
    /// Returns the listed transactions to distrust: when a page of a listed block cannot be read, it may have been
    /// one of theirs, so none of them may apply.
    /// </summary>
    private HashSet<uint> ScanOpenTxnBlocks(List<LoggedPage> logged, List<int> damaged)
    {
        if (_openAtCheckpoint.Count == 0)
        {
            return [];
        }

        var ids = _openAtCheckpoint.Select(o => o.Txn).ToHashSet();
        var blocks = _openAtCheckpoint.SelectMany(o => o.Blocks).Distinct().ToList();

        // Until a new checkpoint commits, the mounted one (and its list) is what the next recovery starts from.
        foreach (int b in blocks)
        {
            _blocks.Held[b]++;
        }

        _heldForEndedTxns.Add((0, blocks));
        bool unreadable = false;
        foreach (int block in blocks)
        {
            // Bad blocks too: one retired after a failed program keeps its earlier pages (nothing erases it again).
            int suspect = -1;
            for (int i = 0; i < _ppb; i++)
            {
                int page = (block * _ppb) + i;
                var status = _io.ReadTag(page, out var tag);
                if (status == PageReadStatus.Erased)
                {
                    break;
                }

                if (status != PageReadStatus.Ok && !_device.IsBad(block))
                {
                    suspect = page;
                    continue;
                }

                if (status == PageReadStatus.Ok && suspect >= 0)
                {
                    // A page follows it, so it is no torn last page: it was written and is now unreadable.
                    damaged.Add(suspect);
                    unreadable = true;
                    suspect = -1;
                }

                if (status == PageReadStatus.Ok && tag.Sequence <= _checkpointSeq && ids.Contains(tag.TxnId)
                    && tag.Kind is PageKind.Data or PageKind.Meta)
                {
                    logged.Add(new LoggedPage(tag.Sequence, page, tag));
                }
            }
        }

        _openAtCheckpoint = [];
        return unreadable ? ids : [];
    }
}

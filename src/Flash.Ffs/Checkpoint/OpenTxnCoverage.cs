using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// A checkpoint's coverage of transactions still open (file handles holding uncommitted writes). Garbage collection
/// may only move blocks a checkpoint covers, so a checkpoint that waited for every handle to flush could wait for ever
/// (writers taking turns keep one open at every moment) and a small volume would run out of space with its garbage
/// pinned.
/// <para>
/// A checkpoint therefore describes each such file as committed: its size and data before the handle's first change
/// (the superseded references the transaction keeps, minus the pages it wrote itself); a file the handle created is
/// left out. It also lists each open transaction with the blocks holding its pages so far, and those blocks stay
/// where they are (held) until a checkpoint that no longer lists the transaction commits. When a transaction's commit
/// page comes after the checkpoint, recovery takes its earlier pages from the listed blocks (tags with its id and a
/// sequence up to the checkpoint's) and replays them with the rest; without a commit they are dropped like any
/// uncommitted transaction.
/// </para>
/// </summary>
internal sealed class OpenTxnCoverage(Dictionary<uint, PendingTxn> openTxns, BlockTable blocks)
{
    /// <summary>Blocks held for ended transactions.</summary>
    public HeldBlocks Held { get; } = new(blocks);

    /// <summary>Open transactions and their blocks as the mounted checkpoint listed them (used once, by recovery).</summary>
    public List<(uint Txn, int[] Blocks)> ListedAtMount { get; set; } = [];

    /// <summary>Checkpoints started while handles held uncommitted writes (test hook).</summary>
    public int CheckpointsOverOpenTransactions { get; private set; }

    /// <summary>RAM held: this object, the held blocks and the list recovery uses once.</summary>
    public long RamBytes => RamSize.Object((4 * RamSize.Reference) + 4) + Held.RamBytes + RamSize.List(RamSize.Reference, ListedAtMount.Capacity);

    /// <summary>
    /// Whether a checkpoint can describe the committed state now: every open transaction is a file handle's, one per
    /// file, and no other change has written a record of its file meanwhile (a rename records the size the handle
    /// made, which is no longer the "before" the transaction kept).
    /// </summary>
    public bool CanCover()
    {
        foreach (var t in openTxns.Values)
        {
            if (t.Node is null || t.Tainted)
            {
                return false;
            }

            foreach (var other in openTxns.Values)
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
    /// <param name="node">The entry recorded.</param>
    public void Taint(Node node)
    {
        foreach (var t in openTxns.Values)
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
    /// <returns>The views by entry id.</returns>
    public Dictionary<uint, Node?> CommittedViews()
    {
        var views = new Dictionary<uint, Node?>();
        foreach (var t in openTxns.Values)
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

    /// <summary>
    /// Keeps every block holding pages of an open transaction where it is (BlockTable.Held): the checkpoint being taken
    /// lists them for recovery. They stay held after the transaction ends, until a checkpoint that no longer lists it
    /// commits (see <see cref="Held"/>).
    /// </summary>
    public void HoldOpenTxnBlocks()
    {
        if (openTxns.Count > 0)
        {
            CheckpointsOverOpenTransactions++;
        }

        foreach (var t in openTxns.Values)
        {
            for (; t.HeldBlocks < t.Blocks.Count; t.HeldBlocks++)
            {
                blocks.Held[t.Blocks[t.HeldBlocks]]++;
            }
        }
    }

    /// <summary>
    /// Recovery takes the transactions the mounted checkpoint listed as open: their blocks are held (until a new
    /// checkpoint commits, the mounted one and its list are what the next recovery starts from) and the list is
    /// cleared. Returns their ids and distinct blocks, or null when it listed none.
    /// </summary>
    /// <returns>The listed transaction ids and the blocks holding their pages.</returns>
    public (HashSet<uint> Ids, List<int> Blocks)? TakeListedAtMount()
    {
        if (ListedAtMount.Count == 0)
        {
            return null;
        }

        var ids = ListedAtMount.Select(o => o.Txn).ToHashSet();
        var listed = ListedAtMount.SelectMany(o => o.Blocks).Distinct().ToList();
        foreach (int b in listed)
        {
            blocks.Held[b]++;
        }

        Held.Add((0, listed));
        ListedAtMount = [];
        return (ids, listed);
    }
}

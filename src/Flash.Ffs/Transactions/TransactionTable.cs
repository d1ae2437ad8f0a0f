using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Transactions;

/// <summary>
/// Transactions at the log level: the open ones by id and what each superseded (their ids come from
/// <see cref="IdCounters"/>). A change writes its
/// data pages and metadata records tagged with a transaction id; the last page it writes carries the commit flag.
/// Pages a change supersedes stay live and pinned (garbage collection does not move their blocks) until the commit
/// page is on flash, because after a power cut before it, replay restores exactly the old state.
/// </summary>
internal sealed class TransactionTable
{
    /// <summary>Ended transactions kept for reuse at most, so a handle's write and flush cycle allocates nothing.</summary>
    private const int MaxSpares = 4;

    private readonly BlockTable _blocks;
    private readonly IndexMutator _index;
    private readonly InlinePageRefs _inline;
    private readonly IdCounters _ids;
    private readonly int _ppb;
    private ITransactionHost? _host;

    /// <summary>Ended transactions kept for reuse.</summary>
    private readonly Stack<PendingTxn> _spares = new();

    public TransactionTable(PageLog log, IndexMutator index, InlinePageRefs inline, IdCounters ids, int chunk)
    {
        _blocks = log.Pool.Table;
        _ppb = log.Pool.PagesPerBlock;
        _index = index;
        _inline = inline;
        _ids = ids;
        Meta = new MetaBatch(log, index, inline, chunk);
    }

    /// <summary>The open transactions by id (read them freely; they begin and end only here).</summary>
    public Dictionary<uint, PendingTxn> Open { get; } = [];

    /// <summary>The metadata records of the transaction being written, batched into pages.</summary>
    public MetaBatch Meta { get; }

    /// <summary>Whether the one-call change in progress changed an entry (so a failure now leaves RAM ahead of flash).</summary>
    public bool WroteSomething { get; set; }

    /// <summary>RAM held: this object, the open and spare transactions and the metadata batch.</summary>
    public long RamBytes
    {
        get
        {
            long ram = RamSize.Object((8 * RamSize.Reference) + 4 + 1)
                + RamSize.Dictionary(24, Open.Capacity)                                                 // uint -> PendingTxn
                + RamSize.Object(RamSize.Reference + 8) + RamSize.Array(RamSize.Reference, _spares.Capacity) // spare stack
                + Meta.RamBytes;
            foreach (var txn in Open.Values)
            {
                ram += txn.RamBytes;
            }

            foreach (var txn in _spares)
            {
                ram += txn.RamBytes;
            }

            return ram;
        }
    }

    /// <summary>The checkpoint above, told of ends and commits (connected once it exists).</summary>
    private ITransactionHost Host => _host ?? throw new InvalidOperationException("The transactions' host is not connected.");

    /// <summary>Connects what is told of ended and committed transactions (the checkpoint writer, created after the table).</summary>
    /// <param name="host">The host.</param>
    public void ConnectHost(ITransactionHost host) => _host = host;

    /// <summary>Starts a transaction.</summary>
    public PendingTxn Begin()
    {
        var txn = _spares.TryPop(out var spare) ? spare : new PendingTxn(_ppb);
        txn.Reset(_ids.TakeTxn());
        Open[txn.Id] = txn;
        WroteSomething = false;
        return txn;
    }

    /// <summary>Starts the transaction of a file handle's changes to <paramref name="node"/> (as it is before them).</summary>
    public PendingTxn BeginFile(Node node, bool created)
    {
        var txn = Begin();
        txn.Attach(node, created);
        if (!created && _index.Lost.Of(node.Id) is { Length: > 0 } marks)
        {
            txn.CommittedLost = marks.ToArray();
        }

        return txn;
    }

    /// <summary>Keeps a superseded reference live (pinned) until <paramref name="txn"/> commits.</summary>
    public void Supersede(PendingTxn txn, Superseded old)
    {
        txn.Released.Add(old);
        _blocks.Pinned[old.Page / _ppb]++;
    }

    /// <summary>
    /// Lets go of the data page that held <paramref name="chunk"/>: a committed one is superseded (live until the
    /// commit); one this transaction wrote itself is garbage at once, since a power cut drops it anyway.
    /// </summary>
    public void ReleaseDataPage(PendingTxn txn, int page, uint chunk)
    {
        if (txn.Own.Remove(page))
        {
            _blocks.ClearValid(page);
        }
        else
        {
            Supersede(txn, new Superseded(page, false, chunk, 0));
        }
    }

    /// <summary>Supersedes every page holding a file's data (its chunks, or its inline record).</summary>
    public void SupersedeData(PendingTxn txn, Node node)
    {
        if (node.Chunks is { } map)
        {
            foreach (var e in map.Extents)
            {
                for (int k = 0; k < e.Count; k++)
                {
                    ReleaseDataPage(txn, e.Page + k, e.Logical + (uint)k);
                }
            }

            _index.ClearChunks(node);
        }

        if (node.IsInline)
        {
            Supersede(txn, new Superseded(node.InlinePage, true, 0, node.InlineOffset));
            _index.ClearInline(node);
        }
    }

    /// <summary>Called once the commit page is programmed: superseded pages become garbage and the transaction ends.</summary>
    public void Committed(PendingTxn txn)
    {
        foreach (var old in txn.Released)
        {
            _blocks.Pinned[old.Page / _ppb]--;
            if (old.Inline)
            {
                _inline.Release(old.Page);
            }
            else
            {
                _blocks.ClearValid(old.Page);
            }
        }

        txn.Released.Clear();
        End(txn);
        Host.Committed();
    }

    /// <summary>Writes the commit page of a metadata-only change and releases what it superseded.</summary>
    public void CommitMeta(PendingTxn txn)
    {
        Meta.Flush(txn, commit: true);
        Committed(txn);
    }

    /// <summary>Abandons a transaction that wrote nothing.</summary>
    public void AbandonEmpty(PendingTxn txn)
    {
        Meta.Discard();
        End(txn);
    }

    /// <summary>Forgets a transaction whose change faulted the volume (nothing more is written until a remount).</summary>
    public void Forget(PendingTxn txn) => Open.Remove(txn.Id);

    /// <summary>
    /// Forgets an ended transaction (the host first keeps the blocks a checkpoint holds for it). A small one is kept
    /// for reuse.
    /// </summary>
    /// <returns>Whether the transaction was still open.</returns>
    public bool End(PendingTxn txn)
    {
        if (!Open.Remove(txn.Id))
        {
            return false;
        }

        Host.Ended(txn);

        // Only small ones: a large write's sets keep their capacity after a reset, and RAM matters more than one
        // allocation per large transaction.
        if (_spares.Count < MaxSpares && txn.Own.BlockCapacity <= 16 && txn.Released.Capacity <= 64 && txn.Blocks.Capacity <= 16)
        {
            txn.Reset(0);
            _spares.Push(txn);
        }

        return true;
    }
}

using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;

namespace Flash.Ffs;

/// <summary>
/// Transactions at the log level. A change writes its data pages and metadata records tagged with a transaction
/// id; the last page it writes carries the commit flag. Pages a change supersedes stay live (pinned) until the commit
/// page is on flash, because after a power cut before it, replay restores exactly the old state.
/// </summary>
public sealed partial class FlashFileSystem
{
    private byte[]? _metaBuffer;
    private int _metaUsed;
    private readonly List<(Node Node, int Offset)> _metaInlineTargets = [];

    /// <summary>Ended transactions kept for reuse, so a handle's write and flush cycle allocates nothing.</summary>
    private readonly Stack<PendingTxn> _spareTxns = new();

    private PendingTxn BeginTxn()
    {
        var txn = _spareTxns.TryPop(out var spare) ? spare : new PendingTxn();
        txn.Reset(_nextTxn++);
        _openTxns[txn.Id] = txn;
        _txnWroteSomething = false;
        return txn;
    }

    /// <summary>Starts the transaction of a file handle's changes to <paramref name="node"/> (as it is before them).</summary>
    private PendingTxn BeginFileTxn(Node node, bool created)
    {
        var txn = BeginTxn();
        txn.Attach(node, created);
        return txn;
    }

    /// <summary>Keeps a superseded reference live until <paramref name="txn"/> commits.</summary>
    private void Supersede(PendingTxn txn, Superseded old)
    {
        txn.Released.Add(old);
        _blocks.Pinned[old.Page / _ppb]++;
    }

    /// <summary>
    /// Lets go of the data page that held <paramref name="chunk"/>: a committed one is superseded (live until the
    /// commit); one this transaction wrote itself is garbage at once, since a power cut drops it anyway.
    /// </summary>
    private void ReleaseDataPage(PendingTxn txn, int page, uint chunk)
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
    private void SupersedeData(PendingTxn txn, Node node)
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

    /// <summary>Called once the commit page is programmed: superseded pages become garbage.</summary>
    private void Committed(PendingTxn txn)
    {
        foreach (var old in txn.Released)
        {
            _blocks.Pinned[old.Page / _ppb]--;
            if (old.Inline)
            {
                ReleaseInline(old.Page);
            }
            else
            {
                _blocks.ClearValid(old.Page);
            }
        }

        txn.Released.Clear();
        EndTxn(txn);
        _checkpointStepDue = true;
    }

    /// <summary>Pages a metadata batch of these records needs (for space reservation).</summary>
    private int MetaPagesFor(int recordBytes) => (recordBytes / (_chunk - 64)) + 1;

    /// <summary>Adds an inode record describing <paramref name="node"/> as it is now.</summary>
    private void AddInode(PendingTxn txn, Node node, ReadOnlySpan<byte> inline = default, bool hasInline = false)
    {
        var name = node.NameUtf8;
        int nameLength = name.Length;
        int size = MetaRecord.InodeSize(nameLength, inline.Length);
        if (_metaUsed + size > _chunk)
        {
            FlushMeta(txn, commit: false);
        }

        _metaBuffer ??= new byte[_chunk];
        if (hasInline || node.Chunks is not null)
        {
            // An earlier record of this transaction gave the node inline data that this record supersedes.
            _metaInlineTargets.RemoveAll(t => t.Node == node);
        }

        bool chunked = !node.IsDirectory && !hasInline && !node.IsInline && !_metaInlineTargets.Exists(t => t.Node == node);
        int length = MetaRecord.WriteInode(_metaBuffer.AsSpan(_metaUsed), node.Id, node.ParentId, node.IsDirectory, node.Size, name, inline, hasInline, chunked);
        if (hasInline)
        {
            _metaInlineTargets.Add((node, _metaUsed + MetaRecord.InodeFixedSize + nameLength));
        }

        _metaUsed += length;
    }

    private void AddDelete(PendingTxn txn, uint id)
    {
        if (_metaUsed + MetaRecord.DeleteSize > _chunk)
        {
            FlushMeta(txn, commit: false);
        }

        _metaBuffer ??= new byte[_chunk];
        _metaInlineTargets.RemoveAll(t => t.Node.Id == id);
        _metaUsed += MetaRecord.WriteDelete(_metaBuffer.AsSpan(_metaUsed), id);
    }

    /// <summary>Programs the pending metadata page; with <paramref name="commit"/> it ends the transaction (an empty page can carry the commit).</summary>
    private void FlushMeta(PendingTxn txn, bool commit)
    {
        if (_metaUsed == 0 && !commit)
        {
            return;
        }

        _metaBuffer ??= new byte[_chunk];
        int page = AppendPage(_hot, PageKind.Meta, commit ? PageFlags.Commit : PageFlags.None, 0, 0, txn.Id, _metaBuffer.AsSpan(0, _metaUsed));
        foreach (var (node, offset) in _metaInlineTargets)
        {
            _index.SetInline(node, page, offset);
            AddInlineRef(page);
        }

        _metaInlineTargets.Clear();
        _metaUsed = 0;
    }

    /// <summary>Writes the commit page of a metadata-only change and releases what it superseded.</summary>
    private void CommitMeta(PendingTxn txn)
    {
        FlushMeta(txn, commit: true);
        Committed(txn);
    }

    /// <summary>Abandons a transaction that wrote nothing.</summary>
    private void AbandonEmpty(PendingTxn txn)
    {
        _metaUsed = 0;
        _metaInlineTargets.Clear();
        EndTxn(txn);
    }

    /// <summary>
    /// Forgets an ended transaction. Blocks a checkpoint holds for it stay held until a checkpoint taken from now on
    /// commits: until then a mount may recover from one that lists the transaction, and its replay of the commit
    /// needs the pages written before that checkpoint.
    /// </summary>
    /// <returns>Whether the transaction was still open.</returns>
    private bool EndTxn(PendingTxn txn)
    {
        if (!_openTxns.Remove(txn.Id))
        {
            return false;
        }

        if (txn.HeldBlocks > 0)
        {
            _heldForEndedTxns.Add((_seq, txn.Blocks.GetRange(0, txn.HeldBlocks)));
            txn.HeldBlocks = 0;
        }

        // Only small ones: a large write's sets keep their capacity after a reset, and RAM matters more than one
        // allocation per large transaction.
        if (_spareTxns.Count < 4 && txn.Own.Capacity <= 64 && txn.Released.Capacity <= 64 && txn.Blocks.Capacity <= 16)
        {
            txn.Reset(0);
            _spareTxns.Push(txn);
        }

        return true;
    }
}

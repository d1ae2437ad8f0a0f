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

    private PendingTxn BeginTxn()
    {
        var txn = new PendingTxn(_nextTxn++);
        _openTxns[txn.Id] = txn;
        _txnWroteSomething = false;
        return txn;
    }

    /// <summary>Keeps a superseded page live until <paramref name="txn"/> commits.</summary>
    private void Supersede(PendingTxn txn, int page, bool inline)
    {
        txn.Released.Add((page, inline));
        _blocks.Pinned[page / _ppb]++;
    }

    /// <summary>Supersedes every page holding a file's data (its chunks, or its inline record).</summary>
    private void SupersedeData(PendingTxn txn, Node node)
    {
        BeforeChange(node);
        if (node.Chunks is { } map)
        {
            foreach (var e in map.Extents)
            {
                for (int k = 0; k < e.Count; k++)
                {
                    Supersede(txn, e.Page + k, inline: false);
                }
            }

            map.Clear();
        }

        if (node.IsInline)
        {
            Supersede(txn, node.InlinePage, inline: true);
            node.InlinePage = -1;
        }
    }

    /// <summary>Called once the commit page is programmed: superseded pages become garbage.</summary>
    private void Committed(PendingTxn txn)
    {
        foreach (var (page, inline) in txn.Released)
        {
            _blocks.Pinned[page / _ppb]--;
            if (inline)
            {
                ReleaseInline(page);
            }
            else
            {
                _blocks.ClearValid(page);
            }
        }

        txn.Released.Clear();
        _openTxns.Remove(txn.Id);
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
            BeforeChange(node);
            node.InlinePage = page;
            node.InlineOffset = offset;
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
        _openTxns.Remove(txn.Id);
    }
}

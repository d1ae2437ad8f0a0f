using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;

namespace Flash.Ffs.Transactions;

/// <summary>
/// The metadata records a transaction has not written yet, batched into one page: inode and delete records are
/// appended to a page buffer and programmed to the hot head when the page is full, when data must follow them in the
/// log, or with the commit flag at the end. Inline data written in a record becomes the entry's only once its page
/// is programmed.
/// </summary>
internal sealed class MetaBatch
{
    private readonly PageLog _log;
    private readonly IndexMutator _index;
    private readonly InlinePageRefs _inline;
    private readonly int _chunk;

    /// <summary>Entries given inline data by a record in the buffer, and where in the page that data starts.</summary>
    private readonly List<(Node Node, int Offset)> _inlineTargets = [];
    private byte[]? _buffer;

    public MetaBatch(PageLog log, IndexMutator index, InlinePageRefs inline, int chunk)
    {
        _log = log;
        _index = index;
        _inline = inline;
        _chunk = chunk;
    }

    /// <summary>Bytes of records waiting in the buffer.</summary>
    public int Used { get; private set; }

    /// <summary>RAM held: this object, the page buffer once used and the inline-target list.</summary>
    public long RamBytes => RamSize.Object((5 * RamSize.Reference) + 8) + (_buffer is null ? 0 : RamSize.Array(1, _buffer.Length))
        + RamSize.List(16, _inlineTargets.Capacity); // (Node, int)

    /// <summary>Pages a metadata batch of these records needs (for space reservation).</summary>
    public int PagesFor(int recordBytes) => (recordBytes / (_chunk - 64)) + 1;

    /// <summary>Adds an inode record describing <paramref name="node"/> as it is now.</summary>
    public void AddInode(PendingTxn txn, Node node, ReadOnlySpan<byte> inline = default, bool hasInline = false)
    {
        var name = node.NameUtf8;
        int nameLength = name.Length;
        int size = MetaRecord.InodeSize(nameLength, inline.Length);
        if (Used + size > _chunk)
        {
            Flush(txn, commit: false);
        }

        _buffer ??= new byte[_chunk];
        if (hasInline || node.Chunks is not null)
        {
            // An earlier record of this transaction gave the node inline data that this record supersedes.
            RemoveTargets(node);
        }

        bool chunked = !node.IsDirectory && !hasInline && !node.IsInline && !IsTarget(node);
        int length = MetaRecord.WriteInode(_buffer.AsSpan(Used), node.Id, node.ParentId, node.IsDirectory, node.Size, name, inline, hasInline, chunked);
        if (hasInline)
        {
            _inlineTargets.Add((node, Used + MetaRecord.InodeFixedSize + nameLength));
        }

        Used += length;
    }

    /// <summary>Adds a delete record for the entry <paramref name="id"/>.</summary>
    public void AddDelete(PendingTxn txn, uint id)
    {
        if (Used + MetaRecord.DeleteSize > _chunk)
        {
            Flush(txn, commit: false);
        }

        _buffer ??= new byte[_chunk];
        for (int i = _inlineTargets.Count - 1; i >= 0; i--)
        {
            if (_inlineTargets[i].Node.Id == id)
            {
                _inlineTargets.RemoveAt(i);
            }
        }

        Used += MetaRecord.WriteDelete(_buffer.AsSpan(Used), id);
    }

    /// <summary>Programs the pending metadata page; with <paramref name="commit"/> it ends the transaction (an empty page can carry the commit).</summary>
    public void Flush(PendingTxn txn, bool commit)
    {
        if (Used == 0 && !commit)
        {
            return;
        }

        _buffer ??= new byte[_chunk];
        int page = _log.Append(_log.Hot, PageKind.Meta, commit ? PageFlags.Commit : PageFlags.None, 0, 0, txn, _buffer.AsSpan(0, Used));
        foreach (var (node, offset) in _inlineTargets)
        {
            _index.SetInline(node, page, offset);
            _inline.Add(page, node.Size);
        }

        _inlineTargets.Clear();
        Used = 0;
    }

    /// <summary>Drops the records of a transaction that is abandoned (nothing of it was programmed).</summary>
    public void Discard()
    {
        Used = 0;
        _inlineTargets.Clear();
    }

    // Loops rather than List predicates: a lambda capturing the node would allocate on every record.
    private void RemoveTargets(Node node)
    {
        for (int i = _inlineTargets.Count - 1; i >= 0; i--)
        {
            if (_inlineTargets[i].Node == node)
            {
                _inlineTargets.RemoveAt(i);
            }
        }
    }

    private bool IsTarget(Node node)
    {
        foreach (var (target, _) in _inlineTargets)
        {
            if (target == node)
            {
                return true;
            }
        }

        return false;
    }
}

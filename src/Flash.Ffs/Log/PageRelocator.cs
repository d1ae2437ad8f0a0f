using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Transactions;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Log;

/// <summary>
/// Moving live pages: a page is copied to the cold head (garbage collection, wear levelling, scrubbing, a retired
/// block) and whatever pointed at it is pointed at the copy: a file's chunk map, an open transaction's superseded
/// reference and pin, an entry's inline data. A page that cannot be read any more is recorded as lost for its file.
/// </summary>
/// <remarks>
/// Relocation sits above the log, the index and the transactions (it appends through <see cref="PageLog"/> and
/// repoints through <see cref="IndexMutator"/> and <see cref="TransactionTable"/>); the log reaches it through
/// <see cref="ILogHost.MoveLivePage"/>, so the calls stay a DAG. Copies are flagged relocated: at replay they move
/// data, they never change it.
/// </remarks>
internal sealed class PageRelocator
{
    private readonly PageLog _log;
    private readonly PageIo _io;
    private readonly BlockTable _blocks;
    private readonly NodeTable _nodes;
    private readonly IndexMutator _index;
    private readonly TransactionTable _txns;
    private readonly InlinePageRefs _inline;
    private readonly LostChunks _lost;
    private readonly ILogger _logger;
    private readonly int _ppb;
    private readonly int _chunk;

    public PageRelocator(PageLog log, PageIo io, IndexMutator index, TransactionTable txns, InlinePageRefs inline, LostChunks lost, ILogger logger)
    {
        _log = log;
        _io = io;
        _blocks = log.Pool.Table;
        _ppb = log.Pool.PagesPerBlock;
        _nodes = index.Nodes;
        _index = index;
        _txns = txns;
        _inline = inline;
        _lost = lost;
        _logger = logger;
        _chunk = io.PayloadSize;
    }

    /// <summary>Pages moved (or found unreadable while being moved) since mount.</summary>
    public long PagesMoved { get; private set; }

    /// <summary>RAM held: this object (its references and counters).</summary>
    public static long RamBytes => RamSize.Object((9 * RamSize.Reference) + 8 + 4 + 4);

    /// <summary>Copies one live page to the cold head and points its owner at the copy.</summary>
    public void Relocate(int page)
    {
        // A pooled buffer per call: relocation runs inside writes whose payload sits in shared buffers, and a program
        // failure while relocating retires the target block, which relocates again (recursively).
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(_chunk);
        try
        {
            var status = _io.Read(page, buffer.AsSpan(0, _chunk), out var tag);
            PagesMoved++;
            if (status != PageReadStatus.Ok)
            {
                _logger.LogError(FfsEvents.DataCorrupt, "Page {Page} could not be read while being moved ({Status}); its data is lost", page, status);
                DropLostPage(page);
                return;
            }

            if (tag.Kind == PageKind.Data)
            {
                RelocateDataPage(page, buffer, tag);
            }
            else if (tag.Kind == PageKind.Meta)
            {
                RelocateInline(page, buffer, tag);
                _inline.Forget(page);
            }

            _blocks.ClearValid(page);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void RelocateDataPage(int page, byte[] buffer, PageTag tag)
    {
        // A page of a transaction still open keeps its id, so replay still drops it if the commit never comes.
        var owner = tag.TxnId != 0 && _txns.Open.TryGetValue(tag.TxnId, out var open) ? open : null;
        int copy = _log.Append(_log.Cold, PageKind.Data, PageFlags.Relocated, tag.ObjectId, tag.Chunk, owner, buffer.AsSpan(0, tag.ByteCount));
        if (_nodes.TryGetValue(tag.ObjectId, out var node) && node.Chunks is { } map && map.Get(tag.Chunk) == page)
        {
            _index.SetChunk(node, tag.Chunk, copy);
            _blocks.SetValid(copy);
            if (owner is not null && owner.Own.Remove(page))
            {
                owner.Own.Add(copy);
            }

            return;
        }

        // Not mapped any more: it must be a page an open transaction superseded but still needs if power fails.
        foreach (var txn in _txns.Open.Values)
        {
            int i = IndexOfReleasedData(txn.Released, page);
            if (i >= 0)
            {
                txn.Released[i] = txn.Released[i] with { Page = copy };
                _blocks.Pinned[page / _ppb]--;
                _blocks.Pinned[copy / _ppb]++;
                _blocks.SetValid(copy);
                return;
            }
        }
    }

    private static int IndexOfReleasedData(List<Superseded> released, int page)
    {
        for (int i = 0; i < released.Count; i++)
        {
            if (released[i].Page == page && !released[i].Inline)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>
    /// Moves the live inline data of metadata page <paramref name="page"/>, packed: its inline-move records, then those
    /// of the block's other live metadata pages while they fit, go into one relocated page (a block of small files
    /// written one per page packs about seven to a page). The copy is one self-contained page programmed at once, so a
    /// power cut leaves either every entry at its old page or every moved entry at the copy; entries are repointed
    /// only after it is programmed, and source pages stay live until then.
    /// </summary>
    private void RelocateInline(int page, byte[] buffer, PageTag tag)
    {
        var pack = System.Buffers.ArrayPool<byte>.Shared.Rent(_chunk);
        int most = (_chunk / MetaRecord.InlineMoveFixedSize) + 1;
        var moves = System.Buffers.ArrayPool<PackedMove>.Shared.Rent(most);
        var source = buffer;
        try
        {
            int used = 0, count = 0;
            bool full = PackRecords(page, buffer.AsSpan(0, tag.ByteCount), pack, ref used, moves, ref count);

            // Further live metadata pages of the same block, while their records fit (a page is taken whole or not at
            // all, so a page left behind keeps all its data where it was).
            int block = page / _ppb;
            int inlineLeft = _inline.InlinePagesIn(block) - 1;
            if (!full && inlineLeft > 0)
            {
                source = System.Buffers.ArrayPool<byte>.Shared.Rent(_chunk);
                foreach (int p in _blocks.ValidPages(block))
                {
                    if (inlineLeft <= 0 || full)
                    {
                        break;
                    }

                    if (p == page)
                    {
                        continue;
                    }

                    if (_io.Read(p, source.AsSpan(0, _chunk), out var t) != PageReadStatus.Ok || t.Kind != PageKind.Meta || !_blocks.SequenceFits(p, t.Sequence))
                    {
                        continue;
                    }

                    inlineLeft--;
                    full = !PackRecordsIfFit(p, source.AsSpan(0, t.ByteCount), pack, ref used, moves, ref count);
                }
            }

            if (count == 0)
            {
                return;
            }

            int copy = _log.Append(_log.Cold, PageKind.Meta, PageFlags.Relocated | PageFlags.Commit, 0, 0, null, pack.AsSpan(0, used));
            for (int i = 0; i < count; i++)
            {
                var m = moves[i];
                if (m.Node.InlinePage != m.From || m.Node.InlineOffset != m.FromOffset)
                {
                    continue; // moved meanwhile (a program failure's nested relocation)
                }

                _inline.Release(m.From);
                _index.SetInline(m.Node, copy, m.ToOffset);
                _inline.Add(copy, m.Node.Size);
            }

            PagesPacked += count;
        }
        finally
        {
            System.Buffers.ArrayPool<PackedMove>.Shared.Return(moves, clearArray: true);
            System.Buffers.ArrayPool<byte>.Shared.Return(pack);
            if (source != buffer)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(source);
            }
        }
    }

    /// <summary>Inline records moved into packed pages since mount.</summary>
    public long PagesPacked { get; private set; }

    /// <summary>One entry's inline data being packed: where it is, and where in the packed page it goes.</summary>
    private readonly record struct PackedMove(Node Node, int From, int FromOffset, int ToOffset);

    /// <summary>Appends the live inline records of <paramref name="payload"/> (page <paramref name="page"/>); returns whether the pack is full.</summary>
    private bool PackRecords(int page, ReadOnlySpan<byte> payload, byte[] pack, ref int used, PackedMove[] moves, ref int count)
    {
        for (int offset = 0; MetaRecord.TryRead(payload, offset, out var rec, out int length); offset += length)
        {
            if (rec.HasInline && _nodes.TryGetValue(rec.Id, out var node) && node.InlinePage == page && node.InlineOffset == rec.InlineOffset)
            {
                int n = MetaRecord.WriteInlineMove(pack.AsSpan(used), rec.Id, rec.Inline);
                moves[count++] = new PackedMove(node, page, rec.InlineOffset, used + MetaRecord.InlineMoveFixedSize);
                used += n;
            }
        }

        return used + MetaRecord.InlineMoveFixedSize > _chunk;
    }

    /// <summary>
    /// Packs page <paramref name="page"/>'s live records when all of them fit (otherwise adds nothing). Returns whether
    /// the pack still has room: false when they did not fit, or when it is full after them.
    /// </summary>
    private bool PackRecordsIfFit(int page, ReadOnlySpan<byte> payload, byte[] pack, ref int used, PackedMove[] moves, ref int count)
    {
        int need = 0;
        for (int offset = 0; MetaRecord.TryRead(payload, offset, out var rec, out int length); offset += length)
        {
            if (rec.HasInline && _nodes.TryGetValue(rec.Id, out var node) && node.InlinePage == page && node.InlineOffset == rec.InlineOffset)
            {
                need += MetaRecord.InlineMoveFixedSize + rec.Inline.Length;
            }
        }

        if (used + need > _chunk)
        {
            return false;
        }

        return !PackRecords(page, payload, pack, ref used, moves, ref count);
    }

    /// <summary>Records the chunk (or inline data) an unreadable page held as lost and unmaps it.</summary>
    private void DropLostPage(int page)
    {
        foreach (var node in _nodes.Values)
        {
            if (node.Chunks is { } map)
            {
                foreach (var e in map.Extents)
                {
                    if (page >= e.Page && page < e.Page + e.Count)
                    {
                        uint chunk = e.Logical + (uint)(page - e.Page);
                        _index.RemoveChunk(node, chunk);
                        _lost.Add(node.Id, chunk);

                        // Nothing points at it any more: left valid, garbage collection would pick it again and
                        // again and never empty its block.
                        _blocks.ClearValid(page);
                        return;
                    }
                }
            }
            else if (node.InlinePage == page)
            {
                _lost.Add(node.Id, 0);
                _inline.Release(page);
                _index.ClearInline(node);
                return;
            }
        }
    }
}

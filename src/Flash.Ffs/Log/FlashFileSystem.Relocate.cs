using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>Relocation: live pages copied to the cold head for garbage collection, wear levelling and scrubbing, inline-data references, lost pages.</summary>
public sealed partial class FlashFileSystem
{
    /// <summary>
    /// Copies one live page to the cold head and points its owner at the copy. Copies are flagged relocated: at replay
    /// they move data, they never change it. A page that cannot be read any more is recorded as lost for its file.
    /// </summary>
    private void RelocatePage(int page)
    {
        // A pooled buffer per call: relocation runs inside writes whose payload sits in shared buffers, and a program
        // failure while relocating retires the target block, which relocates again (recursively).
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(_chunk);
        try
        {
            var status = _io.Read(page, buffer.AsSpan(0, _chunk), out var tag);
            _gcPages++;
            FfsMetrics.GcPageMoved(this);
            if (status != PageReadStatus.Ok)
            {
                _log.LogError(FfsEvents.DataCorrupt, "Page {Page} could not be read while being moved ({Status}); its data is lost", page, status);
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
        var owner = tag.TxnId != 0 && _openTxns.TryGetValue(tag.TxnId, out var open) ? open : null;
        int copy = AppendPage(_cold, PageKind.Data, PageFlags.Relocated, tag.ObjectId, tag.Chunk, owner?.Id ?? 0, buffer.AsSpan(0, tag.ByteCount));
        if (_nodes.TryGetValue(tag.ObjectId, out var node) && node.Chunks is { } map && map.Get(tag.Chunk) == page)
        {
            BeforeChange(node);
            map.Set(tag.Chunk, copy);
            _blocks.SetValid(copy);
            if (owner is not null && owner.Own.Remove(page))
            {
                owner.Own.Add(copy);
            }

            return;
        }

        // Not mapped any more: it must be a page an open transaction superseded but still needs if power fails.
        foreach (var txn in _openTxns.Values)
        {
            int i = txn.Released.FindIndex(r => r.Page == page && !r.Inline);
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

    private void RelocateInline(int page, byte[] buffer, PageTag tag)
    {
        var payload = buffer.AsSpan(0, tag.ByteCount);
        Span<byte> record = stackalloc byte[MetaRecord.InlineMoveFixedSize + 1024];
        for (int offset = 0; MetaRecord.TryRead(payload, offset, out var rec, out int length); offset += length)
        {
            if (rec.HasInline && _nodes.TryGetValue(rec.Id, out var node) && node.InlinePage == page && node.InlineOffset == rec.InlineOffset)
            {
                int n = MetaRecord.WriteInlineMove(record, rec.Id, rec.Inline);
                int copy = AppendPage(_cold, PageKind.Meta, PageFlags.Relocated | PageFlags.Commit, 0, 0, 0, record[..n]);
                ReleaseInline(page);
                BeforeChange(node);
                node.InlinePage = copy;
                node.InlineOffset = MetaRecord.InlineMoveFixedSize;
                AddInlineRef(copy);
            }
        }
    }

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
                        BeforeChange(node);
                        map.Remove(chunk);
                        _lostChunks.Add((node.Id, chunk));
                        return;
                    }
                }
            }
            else if (node.InlinePage == page)
            {
                _lostChunks.Add((node.Id, 0));
                ReleaseInline(page);
                BeforeChange(node);
                node.InlinePage = -1;
                return;
            }
        }
    }

    /// <summary>
    /// Counts a reference to inline data in a metadata page. The page's valid bit is its first reference; only pages
    /// shared by several small files (a transaction's batch) need an entry in the count table, which keeps RAM per
    /// small file down.
    /// </summary>
    private void AddInlineRef(int page)
    {
        if (!_blocks.IsValid(page))
        {
            _blocks.SetValid(page);
        }
        else
        {
            _inlineRefs[page] = _inlineRefs.GetValueOrDefault(page, 1) + 1;
        }
    }

    private void ReleaseInline(int page)
    {
        if (!_inlineRefs.TryGetValue(page, out int n))
        {
            _blocks.ClearValid(page);
        }
        else if (n <= 2)
        {
            _inlineRefs.Remove(page);
        }
        else
        {
            _inlineRefs[page] = n - 1;
        }
    }

    /// <summary>Queues a block for scrubbing after a read needed ECC correction at or above the threshold.</summary>
    private void NoteCorrected(int page)
    {
        if (_io.LastCorrectedBits >= _options.ScrubThresholdBits)
        {
            _gc.QueueScrub(page / _ppb);
        }
    }
}

using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;

namespace Flash.Ffs;

/// <summary>The read path: file data from inline records, chunks and unflushed handles, every read verified.</summary>
public sealed partial class FlashFileSystem
{
    /// <summary>Reads file data at <paramref name="offset"/> into <paramref name="dest"/> (which must not run past the end).</summary>
    private void ReadData(Node node, long offset, Span<byte> dest, string path)
    {
        if (dest.IsEmpty)
        {
            return;
        }

        // A writer's handle may hold bytes not yet on flash (node.Size already counts them): serve those from it, as
        // that handle's own reads do, instead of reading older bytes (or a shorter inline record) from flash.
        var writer = PendingWriter(node);
        if (writer?.Inline is { } pending)
        {
            pending.AsSpan((int)offset, dest.Length).CopyTo(dest);
            return;
        }

        if (node.IsInline)
        {
            ReadInline(node, offset, dest, path);
            return;
        }

        while (!dest.IsEmpty)
        {
            uint c = (uint)(offset / _chunk);
            int within = (int)(offset % _chunk);
            int n = Math.Min(_chunk - within, dest.Length);
            if (writer is not null && writer.BufferedChunk == c)
            {
                writer.ChunkBuffer.AsSpan(within, n).CopyTo(dest);
            }
            else
            {
                ReadChunk(node, c, within, dest[..n], path);
            }

            dest = dest[n..];
            offset += n;
        }
    }

    /// <summary>The open writable handle of a file that holds data not yet on flash, if any (the list is short).</summary>
    private FlashFile? PendingWriter(Node node)
    {
        foreach (var h in _handles)
        {
            if (h.Node == node && h.CanWrite && (h.Inline is not null || h.BufferedChunk >= 0))
            {
                return h;
            }
        }

        return null;
    }

    private void ReadInline(Node node, long offset, Span<byte> dest, string path)
    {
        var status = _io.Read(node.InlinePage, _pageBuffer, out var tag);
        if (status != PageReadStatus.Ok || tag.Kind != PageKind.Meta || node.InlineOffset + node.Size > tag.ByteCount || !_blocks.SequenceFits(node.InlinePage, tag.Sequence)
            || !MetaRecord.HoldsInline(_pageBuffer.AsSpan(0, tag.ByteCount), node.Id, node.InlineOffset, node.Size))
        {
            throw Corrupt(path, node.InlinePage, status == PageReadStatus.Ok ? PageReadStatus.BadTag : status);
        }

        NoteCorrected(node.InlinePage);
        _pageBuffer.AsSpan(node.InlineOffset + (int)offset, dest.Length).CopyTo(dest);
    }

    /// <summary>Reads part of one chunk; unmapped chunks are holes and read as zeros. A whole chunk is read straight into the caller's buffer.</summary>
    private void ReadChunk(Node node, uint chunk, int within, Span<byte> dest, string path)
    {
        int page = node.Chunks?.Get(chunk) ?? -1;
        if (page < 0)
        {
            if (_index.Lost.Contains(node.Id, chunk))
            {
                throw new FlashDataCorruptException(path, -1, $"Chunk {chunk} of '{path}' was lost to an unreadable page.");
            }

            dest.Clear();
            return;
        }

        bool direct = within == 0 && dest.Length == _chunk && _io.TagInSpare;
        var target = direct ? dest : _pageBuffer.AsSpan();
        var status = _io.Read(page, target, out var tag);
        if (status != PageReadStatus.Ok || tag.Kind != PageKind.Data || tag.ObjectId != node.Id || tag.Chunk != chunk || !_blocks.SequenceFits(page, tag.Sequence))
        {
            if (direct)
            {
                dest.Clear();
            }

            throw Corrupt(path, page, status == PageReadStatus.Ok ? PageReadStatus.BadTag : status);
        }

        NoteCorrected(page);
        if (!direct)
        {
            _pageBuffer.AsSpan(within, dest.Length).CopyTo(dest);
        }
    }

    private FlashDataCorruptException Corrupt(string path, int page, PageReadStatus status)
    {
        _log.LogCorrupt(path, page, status);
        return new FlashDataCorruptException(path, page, $"'{path}': page {page} cannot be read back correctly ({status}).");
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

using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;

namespace Flash.Ffs;

/// <summary>The write path of open files: chunk buffering, inline files, truncation and flush-time commit.</summary>
public sealed partial class FlashFileSystem
{
    internal Lock SyncRoot => _lock;

    internal void EnsureMountedLocked() => EnsureMounted();

    internal void HandleClosed(FlashFile file)
    {
        _handles.Remove(file);
        if (file.Txn is { } txn && _txns.End(txn))
        {
            // Only a flush that failed on the device leaves a transaction behind; RAM is ahead of flash now.
            _faultReason ??= "a file was closed with uncommitted writes after a device failure";
        }

        // The ended transaction may be reused by the next change.
        file.Txn = null;
    }

    internal void ReadDataLocked(Node node, long offset, Span<byte> dest, string path)
    {
        try
        {
            ReadData(node, offset, dest, path);
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }
    }

    internal void WriteLocked(FlashFile file, ReadOnlySpan<byte> source)
    {
        var node = file.Node;
        _index.Announce(node);
        long pos = file.Position;
        long end = pos + source.Length;
        try
        {
            if (file.Inline is { } inline)
            {
                if (end <= _inlineMax)
                {
                    BeginWrite(file, _txns.Meta.PagesFor(_inlineMax + 512));
                    if (pos > node.Size)
                    {
                        inline.AsSpan((int)node.Size, (int)(pos - node.Size)).Clear();
                    }

                    source.CopyTo(inline.AsSpan((int)pos));
                    _index.SetSize(node, Math.Max(node.Size, end));
                    file.InlineDirty = true;
                    file.NeedsInode = true;
                    file.Position = end;
                    CountUserBytes(source.Length);
                    return;
                }

                BeginWrite(file, ChunksIn(0, Math.Max(end, node.Size)) + 2);
                ConvertInlineToChunks(file);
            }
            else
            {
                BeginWrite(file, ChunksIn(pos, end) + 2);
            }

            int chunk = _chunk;
            long offset = pos;
            var rest = source;
            while (!rest.IsEmpty)
            {
                uint c = (uint)(offset / chunk);
                int within = (int)(offset % chunk);
                int n = Math.Min(chunk - within, rest.Length);
                bool full = within == 0 && n == chunk;
                if (full && n < rest.Length)
                {
                    // A whole chunk that is not the last of this call goes straight to flash from the caller's buffer.
                    // A buffered earlier chunk goes first, so sequential writes land in consecutive pages (one extent).
                    if (file.BufferedChunk == c)
                    {
                        file.BufferDirty = false;
                        file.BufferedChunk = -1;
                    }
                    else
                    {
                        FlushChunkBuffer(file, commit: false);
                    }

                    WriteChunkPage(file, c, rest[..n], commit: false);
                }
                else
                {
                    // The last chunk stays buffered: the next write may extend it, and flush can make it the commit page.
                    if (file.BufferedChunk != c)
                    {
                        FlushChunkBuffer(file, commit: false);
                        LoadChunkBuffer(file, c, skipRead: full);
                    }

                    rest[..n].CopyTo(file.ChunkBuffer.AsSpan(within));
                    file.BufferDirty = true;
                }

                rest = rest[n..];
                offset += n;
            }

            file.Position = end;
            if (end > node.Size)
            {
                _index.SetSize(node, end);
                file.NeedsInode = true;
            }

            CountUserBytes(source.Length);
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }
    }

    private void CountUserBytes(int n)
    {
        _userBytes += n;
        FfsMetrics.UserBytesWritten(this, n);
    }

    private long ChunksIn(long from, long to) => to <= from ? 0 : ((to + _chunk - 1) / _chunk) - (from / _chunk);

    /// <summary>Reserves space for a write and starts the handle's transaction if it has none (before, so a checkpoint may still run).</summary>
    private void BeginWrite(FlashFile file, long pages)
    {
        EnsureSpace((int)Math.Min(pages, int.MaxValue));
        file.Txn ??= _txns.BeginFile(file.Node, created: false);
    }

    private void ConvertInlineToChunks(FlashFile file)
    {
        var node = file.Node;
        var txn = file.Txn!;
        var content = file.Inline!.AsSpan(0, (int)node.Size);
        _txns.SupersedeData(txn, node);
        _index.StartChunks(node);
        for (uint c = 0; (long)c * _chunk < content.Length; c++)
        {
            LoadChunkBuffer(file, c, skipRead: true);
            var piece = content.Slice((int)(c * _chunk), Math.Min(_chunk, content.Length - (int)(c * _chunk)));
            piece.CopyTo(file.ChunkBuffer);
            file.BufferDirty = true;
        }

        file.DropInline();
        file.InlineDirty = false;
        file.NeedsInode = true;
    }

    private void WriteChunkPage(FlashFile file, uint chunk, ReadOnlySpan<byte> payload, bool commit)
    {
        var node = file.Node;
        var txn = file.Txn!;
        int page = _pageLog.Append(_pageLog.Hot, PageKind.Data, commit ? PageFlags.Commit : PageFlags.None, node.Id, chunk, txn, payload);
        int old = _index.SetChunk(node, chunk, page);
        _blocks.SetValid(page);
        if (old >= 0)
        {
            _txns.ReleaseDataPage(txn, old, chunk);
        }

        txn.Own.Add(page);
    }

    private void FlushChunkBuffer(FlashFile file, bool commit)
    {
        if (file.BufferDirty)
        {
            WriteChunkPage(file, (uint)file.BufferedChunk, file.ChunkBuffer.AsSpan(0, _chunk), commit);
            file.BufferDirty = false;
        }
    }

    private void LoadChunkBuffer(FlashFile file, uint chunk, bool skipRead)
    {
        var buffer = file.ChunkBuffer.AsSpan(0, _chunk);
        if (skipRead)
        {
            buffer.Clear();
        }
        else
        {
            ReadChunk(file.Node, chunk, 0, buffer, file.Path);
        }

        file.BufferedChunk = chunk;
        file.BufferDirty = false;
    }

    internal void SetLengthLocked(FlashFile file, long length)
    {
        var node = file.Node;
        _index.Announce(node);
        try
        {
            if (file.Inline is { } inline)
            {
                if (length <= _inlineMax)
                {
                    BeginWrite(file, _txns.Meta.PagesFor(_inlineMax + 512));
                    if (length > node.Size)
                    {
                        inline.AsSpan((int)node.Size, (int)(length - node.Size)).Clear();
                    }

                    _index.SetSize(node, length);
                    file.InlineDirty = true;
                    file.NeedsInode = true;
                    return;
                }

                BeginWrite(file, ChunksIn(0, node.Size) + 2);
                ConvertInlineToChunks(file);
            }
            else
            {
                BeginWrite(file, 3);
            }

            var txn = file.Txn!;
            if (length < node.Size)
            {
                uint keep = (uint)((length + _chunk - 1) / _chunk);
                if (file.BufferedChunk >= keep)
                {
                    file.BufferDirty = false;
                    file.BufferedChunk = -1;
                }

                // Commit the unbuffered part first, then log the truncation: replay must drop the cut chunks
                // before any chunk this session writes later at those offsets.
                var dropped = new List<(uint Chunk, int Page)>();
                _index.TruncateChunks(node, keep, dropped);
                _index.SetSize(node, length);
                _txns.Meta.AddInode(txn, node);
                _txns.Meta.Flush(txn, commit: false);
                foreach (var (chunk, page) in dropped)
                {
                    _txns.ReleaseDataPage(txn, page, chunk);
                }

                // Zero the tail of the new last chunk, so a later extension reads zeros there.
                int tail = (int)(length % _chunk);
                if (tail != 0 && (file.BufferedChunk == keep - 1 || node.Chunks?.Get(keep - 1) >= 0))
                {
                    if (file.BufferedChunk != keep - 1)
                    {
                        FlushChunkBuffer(file, commit: false);
                        LoadChunkBuffer(file, keep - 1, skipRead: false);
                    }

                    file.ChunkBuffer.AsSpan(tail, _chunk - tail).Clear();
                    file.BufferDirty = true;
                }
            }

            _index.SetSize(node, length);
            file.NeedsInode = true;
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }
    }

    /// <summary>
    /// Commits a handle's writes: an inline file as one inode record; a chunked file by its last data page flagged
    /// commit when its size and name are unchanged (one page for a small overwrite), else by an inode record.
    /// </summary>
    internal void FlushLocked(FlashFile file)
    {
        EnsureMounted();
        if (!file.CanWrite || file.Txn is not { } txn)
        {
            return;
        }

        var node = file.Node;
        _index.Announce(node);
        try
        {
            if (file.Inline is { } inline)
            {
                _txns.SupersedeData(txn, node);
                _txns.Meta.AddInode(txn, node, inline.AsSpan(0, (int)node.Size), hasInline: node.Size > 0);
                _txns.CommitMeta(txn);
            }
            else if (file.NeedsInode)
            {
                FlushChunkBuffer(file, commit: false);
                _txns.Meta.AddInode(txn, node);
                _txns.CommitMeta(txn);
            }
            else if (file.BufferDirty)
            {
                FlushChunkBuffer(file, commit: true);
                _txns.Committed(txn);
            }
            else
            {
                _txns.CommitMeta(txn);
            }
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }

        _index.SetModified(node, _pageLog.Sequence);
        file.Txn = null;
        file.NeedsInode = false;
        file.InlineDirty = false;
        AfterCommit();
    }
}

using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;

namespace Flash.Ffs;

/// <summary>
/// Writes of part of a file inside a batch (<see cref="FlashTransaction.WriteAt"/>): only the chunks the range touches
/// get new pages, the file's other chunks stay where they are, and one inode record gives the new size. Replay maps a
/// transaction's data pages over the file's chunk map, so this is as atomic as a whole-file write.
/// </summary>
public sealed partial class FlashFileSystem
{
    /// <summary>A chunk merged from its old content and the new bytes (the page buffer is ReadChunk's own).</summary>
    private byte[]? _mergeBuffer;

    private void WriteAtCore(PendingTxn txn, string path, long offset, byte[] data)
    {
        var (parent, name) = ResolveParent(path);
        if (!parent.Children!.TryGetValue(name, out var node) || (offset == 0 && data.Length >= node.Size))
        {
            // A new file, or every byte replaced: a whole-file write.
            WriteAllBytesCore(txn, path, data);
            return;
        }

        long end = offset + data.Length;
        long size = Math.Max(node.Size, end);
        if (node.Chunks is null)
        {
            // Inline (or empty): at most the inline limit is kept, so the merged content is small plus the new bytes.
            var merged = new byte[size];
            ReadData(node, 0, merged.AsSpan(0, (int)node.Size), path);
            data.CopyTo(merged.AsSpan((int)offset));
            WriteAllBytesCore(txn, path, merged);
            return;
        }

        _index.Announce(node);
        _txns.WroteSomething = true;

        // As for a whole-file write: records this transaction buffered earlier precede its data pages in the log.
        _txns.Meta.Flush(txn, commit: false);
        int chunk = _chunk;
        for (long at = offset; at < end;)
        {
            uint c = (uint)(at / chunk);
            long chunkStart = (long)c * chunk;
            int within = (int)(at - chunkStart);
            int n = (int)Math.Min(chunk - within, end - at);
            var piece = data.AsSpan((int)(at - offset), n);
            ReadOnlySpan<byte> payload;
            if (n == chunk)
            {
                payload = piece;
            }
            else
            {
                // A partly written chunk keeps the file's bytes around the range, and zeros past the old end. The old
                // page is read only when some of its bytes survive: a write from the chunk's start to (or past) the
                // old end replaces all of them, so it succeeds even when the old page is unreadable (the ranged
                // self-heal rewrites a damaged partial last chunk this way).
                var buffer = (_mergeBuffer ??= new byte[chunk]).AsSpan();
                if (chunkStart < node.Size && (within > 0 || chunkStart + n < node.Size))
                {
                    ReadChunk(node, c, 0, buffer, path);
                    int kept = (int)Math.Min(chunk, node.Size - chunkStart);
                    buffer[kept..].Clear(); // bytes a page holds past the old end are not the file's
                }
                else
                {
                    buffer.Clear();
                }

                piece.CopyTo(buffer[within..]);
                payload = buffer;
            }

            int page = _pageLog.Append(_pageLog.Hot, PageKind.Data, PageFlags.None, node.Id, c, txn, payload);
            int old = _index.SetChunk(node, c, page);
            _blocks.SetValid(page);
            if (old >= 0)
            {
                _txns.ReleaseDataPage(txn, old, c);
            }

            at += n;
        }

        _index.SetSize(node, size);
        CountUserBytes(data.Length);
        _txns.Meta.AddInode(txn, node);
        _index.SetModified(node, _pageLog.Sequence + 1);
    }

    /// <summary>The sizes files have as a batch's earlier operations leave them, for validating its partial writes.</summary>
    private sealed class BatchSizes(FlashFileSystem fs)
    {
        private readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);

        /// <summary>The file's size (the caller checked that it exists as a file).</summary>
        public long Of(string path) => _sizes.TryGetValue(path, out var n) ? n : fs.TryResolve(path)?.Size ?? 0;

        public void Set(string path, long size) => _sizes[path] = size;

        public void Forget(string path) => _sizes.Remove(path);

        public void Move(string from, string to)
        {
            _sizes[to] = Of(from);
            _sizes.Remove(from);
        }
    }
}

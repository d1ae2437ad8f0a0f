using System.Buffers;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;

namespace Flash.Ffs;

/// <summary>
/// An open file: read, write, seek, truncate. Writes are durable when <see cref="Flush"/> (or <see cref="Dispose"/>)
/// returns; until then they form one uncommitted transaction that a power cut discards whole.
/// </summary>
/// <remarks>
/// The handle keeps one chunk of pending writes (and, for small inline files, their whole content) in pooled buffers,
/// so calls in steady state allocate nothing. All members are thread-safe through the file system's lock.
/// </remarks>
public sealed class FlashFile : IDisposable
{
    private readonly FlashFileSystem _fs;
    private readonly Node _node;
    private readonly bool _writable;
    private PendingTxn? _txn;
    private bool _needsInode;
    private byte[]? _chunkBuffer;
    private long _bufferedChunk = -1;
    private bool _bufferDirty;
    private byte[]? _inline;
    private bool _inlineDirty;
    private bool _closed;
    private long _position;

    internal FlashFile(FlashFileSystem fs, Node node, string path, bool writable, PendingTxn? txn, bool needsInode)
    {
        _fs = fs;
        _node = node;
        Path = path;
        _writable = writable;
        _txn = txn;
        _needsInode = needsInode;
        if (writable && (node.IsInline || node.Size == 0) && node.Chunks is null)
        {
            // Small files are rewritten whole: keep their content here until flush writes one inline record.
            _inline = ArrayPool<byte>.Shared.Rent(fs.InlineLimit);
            fs.ReadDataLocked(node, 0, _inline.AsSpan(0, (int)node.Size), path);
        }
    }

    /// <summary>The path the file was opened by.</summary>
    public string Path { get; }

    /// <summary>Whether the handle may write.</summary>
    public bool CanWrite => _writable;

    /// <summary>The file's current size in bytes.</summary>
    public long Length
    {
        get
        {
            lock (_fs.SyncRoot)
            {
                return _node.Size;
            }
        }
    }

    /// <summary>The position of the next read or write.</summary>
    public long Position
    {
        get => _position;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _position = value;
        }
    }

    /// <summary>RAM held by the handle: this object, its path and its pooled buffers (its transaction counts on its own).</summary>
    internal long RamBytes =>
        RamSize.Object((7 * RamSize.Reference) + (2 * 8) + 4)
        + RamSize.String(Path.Length)
        + (_chunkBuffer is null ? 0 : RamSize.Array(1, _chunkBuffer.Length))
        + (_inline is null ? 0 : RamSize.Array(1, _inline.Length));

    /// <summary>Moves the position.</summary>
    /// <param name="offset">Offset relative to <paramref name="origin"/>.</param>
    /// <param name="origin">Where the offset counts from.</param>
    /// <returns>The new position.</returns>
    public long Seek(long offset, SeekOrigin origin)
    {
        long basis = origin switch
        {
            SeekOrigin.Begin => 0,
            SeekOrigin.Current => _position,
            SeekOrigin.End => Length,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        Position = basis + offset;
        return _position;
    }

    /// <summary>Reads from the current position.</summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <returns>Bytes read; 0 at the end of the file.</returns>
    /// <exception cref="FlashDataCorruptException">Stored data cannot be read back correctly.</exception>
    public int Read(Span<byte> destination)
    {
        lock (_fs.SyncRoot)
        {
            EnsureOpen();
            long available = _node.Size - _position;
            int n = (int)Math.Clamp(available, 0, destination.Length);
            if (n == 0)
            {
                return 0;
            }

            var dest = destination[..n];
            if (_inline is not null)
            {
                _inline.AsSpan((int)_position, n).CopyTo(dest);
            }
            else
            {
                long offset = _position;
                int chunk = _fs.ChunkSize;
                while (!dest.IsEmpty)
                {
                    long c = offset / chunk;
                    int within = (int)(offset % chunk);
                    int piece = Math.Min(chunk - within, dest.Length);
                    if (c == _bufferedChunk)
                    {
                        _chunkBuffer.AsSpan(within, piece).CopyTo(dest);
                    }
                    else
                    {
                        _fs.ReadDataLocked(_node, offset, dest[..piece], Path);
                    }

                    dest = dest[piece..];
                    offset += piece;
                }
            }

            _position += n;
            return n;
        }
    }

    /// <summary>Writes at the current position, extending the file when needed.</summary>
    /// <param name="source">The bytes to write.</param>
    /// <exception cref="FlashNoSpaceException">The volume is full; nothing of this call was written.</exception>
    public void Write(ReadOnlySpan<byte> source)
    {
        lock (_fs.SyncRoot)
        {
            EnsureOpen();
            EnsureWritable();
            if (source.IsEmpty)
            {
                return;
            }

            _fs.WriteLocked(this, source);
        }
    }

    /// <summary>Sets the file's length: truncates, or extends with zeros.</summary>
    /// <param name="length">The new length.</param>
    public void SetLength(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        lock (_fs.SyncRoot)
        {
            EnsureOpen();
            EnsureWritable();
            _fs.SetLengthLocked(this, length);
        }
    }

    /// <summary>Makes every write so far durable (one atomic commit).</summary>
    public void Flush()
    {
        lock (_fs.SyncRoot)
        {
            EnsureOpen();
            _fs.FlushLocked(this);
        }
    }

    /// <summary>Flushes and closes the handle.</summary>
    public void Dispose()
    {
        lock (_fs.SyncRoot)
        {
            if (_closed)
            {
                return;
            }

            try
            {
                if (_fs.IsMounted)
                {
                    _fs.FlushLocked(this);
                }
            }
            finally
            {
                CloseCore();
            }
        }
    }

    /// <summary>A <see cref="Stream"/> over this handle (disposing the stream disposes the handle).</summary>
    /// <returns>The stream.</returns>
    public Stream AsStream() => new FlashFileStream(this);

    /// <summary>
    /// Reads, completing synchronously as <see cref="MemoryStream"/> does: the device is synchronous, so the returned
    /// task is already complete (faulted with the read's exception, cancelled when the token was).
    /// </summary>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels before the read starts.</param>
    /// <returns>Bytes read.</returns>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        try
        {
            return ValueTask.FromResult(Read(destination.Span));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<int>(ex);
        }
    }

    /// <summary>Writes, completing synchronously (see <see cref="ReadAsync"/>).</summary>
    /// <param name="source">The bytes.</param>
    /// <param name="cancellationToken">Cancels before the write starts.</param>
    /// <returns>A completed task: the bytes are written (not yet durable: flush).</returns>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        => Completed(() => Write(source.Span), cancellationToken);

    /// <summary>Flushes, completing synchronously (see <see cref="ReadAsync"/>).</summary>
    /// <param name="cancellationToken">Cancels before the flush starts.</param>
    /// <returns>A completed task: the writes are durable.</returns>
    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => Completed(Flush, cancellationToken);

    private static ValueTask Completed(Action action, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        try
        {
            action();
            return ValueTask.CompletedTask;
        }
        catch (Exception ex)
        {
            return ValueTask.FromException(ex);
        }
    }

    // State the file system's write path works on (under its lock).
    internal Node Node => _node;

    internal PendingTxn? Txn { get => _txn; set => _txn = value; }

    internal bool NeedsInode { get => _needsInode; set => _needsInode = value; }

    internal byte[]? Inline => _inline;

    internal bool InlineDirty { get => _inlineDirty; set => _inlineDirty = value; }

    internal long BufferedChunk { get => _bufferedChunk; set => _bufferedChunk = value; }

    internal bool BufferDirty { get => _bufferDirty; set => _bufferDirty = value; }

    internal byte[] ChunkBuffer => _chunkBuffer ??= ArrayPool<byte>.Shared.Rent(_fs.ChunkSize);

    internal void DropInline()
    {
        if (_inline is not null)
        {
            ArrayPool<byte>.Shared.Return(_inline);
            _inline = null;
        }
    }

    internal void FlushCore() => _fs.FlushLocked(this);

    internal void CloseCore()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        _fs.HandleClosed(this);
        DropInline();
        if (_chunkBuffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_chunkBuffer);
            _chunkBuffer = null;
        }
    }

    private void EnsureOpen()
    {
        ObjectDisposedException.ThrowIf(_closed, this);
        _fs.EnsureMountedLocked();
    }

    private void EnsureWritable()
    {
        if (!_writable)
        {
            throw new NotSupportedException($"'{Path}' was opened for reading only.");
        }
    }
}

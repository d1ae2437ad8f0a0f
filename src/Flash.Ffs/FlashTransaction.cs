namespace Flash.Ffs;

/// <summary>
/// A batch of changes committed atomically by <see cref="Commit"/>: after a power cut at any instant, either all of
/// them are on flash or none is. Nothing is written before <see cref="Commit"/>; the whole batch is validated first.
/// </summary>
public sealed class FlashTransaction : IDisposable
{
    private readonly FlashFileSystem _fs;
    private readonly List<Op> _ops = [];
    private bool _done;

    internal FlashTransaction(FlashFileSystem fs) => _fs = fs;

    internal enum OpKind
    {
        CreateDirectory,
        DeleteDirectory,
        Delete,
        Rename,
        WriteAllBytes,
        WriteAt,
    }

    internal sealed record Op(OpKind Kind, string Path, string? Destination = null, byte[]? Data = null, bool Replace = true, long Offset = 0);

    internal IReadOnlyList<Op> Ops => _ops;

    /// <summary>Adds a directory creation.</summary>
    /// <param name="path">Absolute path.</param>
    /// <returns>This transaction.</returns>
    public FlashTransaction CreateDirectory(string path) => Add(new Op(OpKind.CreateDirectory, path));

    /// <summary>Adds the deletion of an empty directory.</summary>
    /// <param name="path">Absolute path.</param>
    /// <returns>This transaction.</returns>
    public FlashTransaction DeleteDirectory(string path) => Add(new Op(OpKind.DeleteDirectory, path));

    /// <summary>Adds a file deletion.</summary>
    /// <param name="path">Absolute path.</param>
    /// <returns>This transaction.</returns>
    public FlashTransaction Delete(string path) => Add(new Op(OpKind.Delete, path));

    /// <summary>Adds a file rename (directories cannot be renamed inside a transaction).</summary>
    /// <param name="source">Existing file.</param>
    /// <param name="destination">New path.</param>
    /// <param name="replace">Whether an existing destination file may be replaced.</param>
    /// <returns>This transaction.</returns>
    public FlashTransaction Rename(string source, string destination, bool replace = true) => Add(new Op(OpKind.Rename, source, destination, Replace: replace));

    /// <summary>Adds a whole-file write (the data is copied now).</summary>
    /// <param name="path">Absolute path.</param>
    /// <param name="data">The new content.</param>
    /// <returns>This transaction.</returns>
    public FlashTransaction WriteAllBytes(string path, ReadOnlySpan<byte> data) => Add(new Op(OpKind.WriteAllBytes, path, Data: data.ToArray()));

    /// <summary>
    /// Adds a write of part of a file (the data is copied now): <paramref name="data"/> replaces the bytes from
    /// <paramref name="offset"/> on and the file grows when it passes the end. The file must exist and hold at least
    /// <paramref name="offset"/> bytes (no holes), or, with <paramref name="offset"/> 0, it is created. Only the chunks
    /// the range touches are written, so a large file can be built in bounded slices, each committed atomically with
    /// whatever else the batch holds.
    /// </summary>
    /// <param name="path">Absolute path.</param>
    /// <param name="offset">Where the data goes, at most the file's length.</param>
    /// <param name="data">The bytes.</param>
    /// <returns>This transaction.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative; nothing was added.</exception>
    public FlashTransaction WriteAt(string path, long offset, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return Add(new Op(OpKind.WriteAt, path, Data: data.ToArray(), Offset: offset));
    }

    /// <summary>As <see cref="WriteAt"/>, taking <paramref name="data"/> without a copy: the caller must not change it until the commit.</summary>
    internal FlashTransaction WriteAtOwned(string path, long offset, byte[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return Add(new Op(OpKind.WriteAt, path, Data: data, Offset: offset));
    }

    /// <summary>As <see cref="WriteAllBytes"/>, taking <paramref name="data"/> without a copy: the caller must not change it until the commit.</summary>
    internal FlashTransaction WriteAllBytesOwned(string path, byte[] data) => Add(new Op(OpKind.WriteAllBytes, path, Data: data));

    /// <summary>Validates the batch against the volume and commits it as one atomic, durable change.</summary>
    /// <exception cref="FlashFileSystemException">An operation is invalid (nothing was written) or the volume is full.</exception>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _fs.CommitTransaction(this);
        _done = true;
    }

    /// <summary>Discards the batch if it was not committed (nothing was written).</summary>
    public void Dispose() => _done = true;

    private FlashTransaction Add(Op op)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        _ops.Add(op);
        return this;
    }
}

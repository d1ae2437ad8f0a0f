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
    }

    internal sealed record Op(OpKind Kind, string Path, string? Destination = null, byte[]? Data = null, bool Replace = true);

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

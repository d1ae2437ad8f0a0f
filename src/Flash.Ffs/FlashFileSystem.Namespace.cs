using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;

namespace Flash.Ffs;

/// <summary>Directory and whole-file operations; each is one atomic, durable transaction.</summary>
public sealed partial class FlashFileSystem
{
    private readonly List<FlashFile> _handles = [];

    /// <summary>Creates a directory. Its parent must exist.</summary>
    /// <param name="path">Absolute path of the new directory.</param>
    /// <exception cref="FlashPathExistsException">An entry of that name exists.</exception>
    /// <exception cref="FlashPathNotFoundException">The parent does not exist.</exception>
    public void CreateDirectory(string path) => Change(txn => CreateDirectoryCore(txn, path), _txns.Meta.PagesFor(512));

    /// <summary>Deletes an empty directory.</summary>
    /// <param name="path">Absolute path of the directory.</param>
    /// <exception cref="FlashEntryKindException">The path is a file, or the directory is not empty.</exception>
    public void DeleteDirectory(string path) => Change(txn => DeleteCore(txn, path, directory: true), 1);

    /// <summary>Deletes a file.</summary>
    /// <param name="path">Absolute path of the file.</param>
    /// <exception cref="FlashEntryKindException">The path is a directory, or the file is open.</exception>
    public void Delete(string path) => Change(txn => DeleteCore(txn, path, directory: false), 1);

    /// <summary>
    /// Renames or moves a file or directory atomically. When <paramref name="replace"/> is true an existing file (or
    /// empty directory) at the destination is replaced in the same atomic step.
    /// </summary>
    /// <param name="source">Existing path.</param>
    /// <param name="destination">New path; its parent must exist.</param>
    /// <param name="replace">Whether an existing destination may be replaced.</param>
    public void Rename(string source, string destination, bool replace = true)
        => Change(txn => RenameCore(txn, source, destination, replace), _txns.Meta.PagesFor(1024) + 1);

    /// <summary>Replaces a file's whole content atomically and durably (creating the file if needed).</summary>
    /// <param name="path">Absolute path of the file.</param>
    /// <param name="data">The new content.</param>
    public void WriteAllBytes(string path, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            using var timer = FfsMetrics.Time(this, "write_all");
            EnsureWritable();
            ValidateWriteAllBytes(path, data.Length);
            EnsureSpace(PagesForContent(data.Length) + _txns.Meta.PagesFor(1024));
            var txn = _txns.Begin();
            try
            {
                WriteAllBytesCore(txn, path, data);
                _txns.CommitMeta(txn);
                AfterCommit();
            }
            catch (Exception ex) when (FaultOnFailure(txn, ex))
            {
                throw;
            }
        }
    }

    /// <summary>Reads a whole file.</summary>
    /// <param name="path">Absolute path of the file.</param>
    /// <returns>The content.</returns>
    /// <exception cref="FlashDataCorruptException">Part of the file cannot be read back correctly.</exception>
    public byte[] ReadAllBytes(string path)
    {
        lock (_lock)
        {
            using var timer = FfsMetrics.Time(this, "read_all");
            EnsureMounted();
            var node = ResolveFile(path);
            var data = new byte[node.Size];
            ReadDataLocked(node, 0, data, path);
            return data;
        }
    }

    /// <summary>Whether a file or directory exists at the path.</summary>
    /// <param name="path">Absolute path.</param>
    /// <returns>True when it exists.</returns>
    public bool Exists(string path)
    {
        lock (_lock)
        {
            EnsureMounted();
            return TryResolve(path) is not null;
        }
    }

    /// <summary>Describes the entry at a path.</summary>
    /// <param name="path">Absolute path.</param>
    /// <returns>The entry.</returns>
    /// <exception cref="FlashPathNotFoundException">Nothing is there.</exception>
    public FlashEntry GetEntry(string path)
    {
        lock (_lock)
        {
            EnsureMounted();
            return EntryOf(Resolve(path));
        }
    }

    /// <summary>Lists a directory, sorted by name (ordinal).</summary>
    /// <param name="path">Absolute path of the directory.</param>
    /// <returns>Its entries.</returns>
    public IReadOnlyList<FlashEntry> ListDirectory(string path)
    {
        lock (_lock)
        {
            EnsureMounted();
            var node = Resolve(path);
            if (!node.IsDirectory)
            {
                throw new FlashEntryKindException(path, $"'{path}' is a file, not a directory.");
            }

            return node.Children!.OrderBy(n => n.Name, StringComparer.Ordinal).Select(EntryOf).ToArray();
        }
    }

    /// <summary>Opens a file for reading and writing (or reading only on a read-only mount).</summary>
    /// <param name="path">Absolute path of the file.</param>
    /// <param name="mode">Whether to open, create or truncate.</param>
    /// <returns>The handle; dispose it to flush and close.</returns>
    public FlashFile Open(string path, FlashFileMode mode = FlashFileMode.Open) => Open(path, mode, writable: !_options.ReadOnly);

    /// <summary>Opens an existing file for reading only.</summary>
    /// <param name="path">Absolute path of the file.</param>
    /// <returns>The handle.</returns>
    public FlashFile OpenRead(string path) => Open(path, FlashFileMode.Open, writable: false);

    /// <summary>Starts a batch of changes that commit atomically: after a power cut all of them are there or none.</summary>
    /// <returns>The transaction; call <see cref="FlashTransaction.Commit"/>.</returns>
    public FlashTransaction BeginTransaction()
    {
        lock (_lock)
        {
            EnsureWritable();
            return new FlashTransaction(this);
        }
    }

    private FlashFile Open(string path, FlashFileMode mode, bool writable)
    {
        lock (_lock)
        {
            if (writable || mode != FlashFileMode.Open)
            {
                EnsureWritable();
            }
            else
            {
                EnsureMounted();
            }

            var node = TryResolve(path);
            bool create = node is null && mode is FlashFileMode.CreateNew or FlashFileMode.Create or FlashFileMode.OpenOrCreate or FlashFileMode.Append;
            if (node is null && !create)
            {
                throw new FlashPathNotFoundException(path);
            }

            if (node is not null && mode == FlashFileMode.CreateNew)
            {
                throw new FlashPathExistsException(path);
            }

            if (node is { IsDirectory: true })
            {
                throw new FlashEntryKindException(path, $"'{path}' is a directory, not a file.");
            }

            PendingTxn? txn = null;
            if (create)
            {
                var (parent, name) = ResolveParent(path);
                EnsureSpace(_txns.Meta.PagesFor(512));
                node = new Node(_ids.TakeEntry(), parent.Id, name, isDirectory: false);
                txn = _txns.BeginFile(node, created: true);
                _index.Create(parent, node);
            }
            else if (mode == FlashFileMode.Create && node!.Size > 0)
            {
                EnsureSpace(_txns.Meta.PagesFor(512) + 1);
                txn = _txns.BeginFile(node, created: false);
                bool wasChunked = node.Chunks is not null;
                _txns.SupersedeData(txn, node);
                _index.SetSize(node, 0);
                if (wasChunked)
                {
                    // Log the truncation now, so replay drops the old chunks before this session's new ones.
                    _txns.Meta.AddInode(txn, node);
                    _txns.Meta.Flush(txn, commit: false);
                }
            }

            var file = new FlashFile(this, node!, path, writable, txn, needsInode: txn is not null);
            if (mode == FlashFileMode.Append)
            {
                file.Position = node!.Size;
            }

            _handles.Add(file);
            return file;
        }
    }

    /// <summary>Runs a one-transaction metadata change: validation, space, records, commit.</summary>
    private void Change(Action<PendingTxn> change, int pages)
    {
        lock (_lock)
        {
            using var timer = FfsMetrics.Time(this, "change");
            EnsureWritable();
            EnsureSpace(pages);
            var txn = _txns.Begin();
            try
            {
                change(txn);
                _txns.CommitMeta(txn);
                AfterCommit();
            }
            catch (Exception ex) when (FaultOnFailure(txn, ex))
            {
                throw;
            }
        }
    }

    /// <summary>
    /// A change that failed validation wrote nothing: drop its transaction. One that failed after writing leaves RAM
    /// ahead of flash, so the volume faults and must be mounted again (replay then drops the uncommitted records).
    /// </summary>
    private bool FaultOnFailure(PendingTxn txn, Exception failure)
    {
        bool started = txn.Released.Count != 0 || _txns.Meta.Used != 0 || _txns.WroteSomething;
        _txns.WroteSomething = false;
        if (ApplyFaultPolicy(failure, started))
        {
            _txns.Forget(txn);
        }
        else
        {
            _txns.AbandonEmpty(txn);
        }

        return false;
    }

    private void CreateDirectoryCore(PendingTxn txn, string path)
    {
        var (parent, name) = ResolveParent(path);
        if (parent.Children!.Contains(name))
        {
            throw new FlashPathExistsException(path);
        }

        var node = new Node(_ids.TakeEntry(), parent.Id, name, isDirectory: true);
        _index.Create(parent, node);
        _txns.WroteSomething = true;
        _txns.Meta.AddInode(txn, node);
        _index.SetModified(node, _pageLog.Sequence + 1);
    }

    private void DeleteCore(PendingTxn txn, string path, bool directory)
    {
        var node = Resolve(path);
        if (node.Id == RootId)
        {
            throw new FlashInvalidPathException(path, "The root directory cannot be deleted.");
        }

        if (node.IsDirectory != directory)
        {
            throw new FlashEntryKindException(path, directory ? $"'{path}' is a file; use Delete." : $"'{path}' is a directory; use DeleteDirectory.");
        }

        if (directory && node.Children!.Count > 0)
        {
            throw new FlashEntryKindException(path, $"Directory '{path}' is not empty.");
        }

        if (HasOpenHandles(node))
        {
            throw new FlashEntryKindException(path, $"'{path}' is open.");
        }

        _txns.WroteSomething = true;
        RemoveNode(txn, node);
    }

    private void RemoveNode(PendingTxn txn, Node node)
    {
        _txns.SupersedeData(txn, node);
        _index.Remove(node);
        _txns.Meta.AddDelete(txn, node.Id);
    }

    private void RenameCore(PendingTxn txn, string source, string destination, bool replace)
    {
        var node = Resolve(source);
        if (node.Id == RootId)
        {
            throw new FlashInvalidPathException(source, "The root directory cannot be renamed.");
        }

        var (parent, name) = ResolveParent(destination);
        for (var p = parent; ; p = _nodes[p.ParentId])
        {
            if (p == node)
            {
                throw new FlashInvalidPathException(destination, $"'{source}' cannot be moved into itself.");
            }

            if (p.Id == RootId)
            {
                break;
            }
        }

        if (parent.Children!.TryGetValue(name, out var existing))
        {
            if (existing == node)
            {
                return;
            }

            if (!replace)
            {
                throw new FlashPathExistsException(destination);
            }

            if (existing.IsDirectory != node.IsDirectory)
            {
                throw new FlashEntryKindException(destination, $"'{destination}' is a {(existing.IsDirectory ? "directory" : "file")}; a {(node.IsDirectory ? "directory" : "file")} cannot replace it.");
            }

            if (existing.IsDirectory && existing.Children!.Count > 0)
            {
                throw new FlashEntryKindException(destination, $"Directory '{destination}' is not empty.");
            }

            if (HasOpenHandles(existing))
            {
                throw new FlashEntryKindException(destination, $"'{destination}' is open.");
            }

            _txns.WroteSomething = true;
            RemoveNode(txn, existing);
        }

        _txns.WroteSomething = true;
        _checkpoint.Coverage.Taint(node);
        _index.Move(node, parent, name);
        _txns.Meta.AddInode(txn, node);
        _index.SetModified(node, _pageLog.Sequence + 1);
    }

    private void ValidateWriteAllBytes(string path, long length)
    {
        var (parent, name) = ResolveParent(path);
        if (parent.Children!.TryGetValue(name, out var existing))
        {
            if (existing.IsDirectory)
            {
                throw new FlashEntryKindException(path, $"'{path}' is a directory, not a file.");
            }

            if (HasOpenHandles(existing))
            {
                throw new FlashEntryKindException(path, $"'{path}' is open.");
            }
        }

        if (length > (long)_chunk * uint.MaxValue)
        {
            throw new FlashNoSpaceException($"A file of {length} bytes is larger than a volume can hold.");
        }
    }

    private int PagesForContent(long length) => length <= _inlineMax ? 0 : (int)((length + _chunk - 1) / _chunk);

    private void WriteAllBytesCore(PendingTxn txn, string path, ReadOnlySpan<byte> data)
    {
        var (parent, name) = ResolveParent(path);
        if (!parent.Children!.TryGetValue(name, out var node))
        {
            node = new Node(_ids.TakeEntry(), parent.Id, name, isDirectory: false);
            _index.Create(parent, node);
        }

        _index.Announce(node);
        _txns.WroteSomething = true;

        // Records this transaction buffered earlier (perhaps about this very file) must precede its data pages in the
        // log, because replay applies a transaction's pages in log order; flushing also settles their inline targets.
        if (data.Length > _inlineMax)
        {
            _txns.Meta.Flush(txn, commit: false);
        }

        _txns.SupersedeData(txn, node);
        _index.ForgetLost(node);
        _index.SetSize(node, data.Length);
        _userBytes += data.Length;
        FfsMetrics.UserBytesWritten(this, data.Length);
        if (data.Length <= _inlineMax)
        {
            _index.DropChunks(node);
            _txns.Meta.AddInode(txn, node, data, hasInline: data.Length > 0);
        }
        else
        {
            _index.StartChunks(node);
            for (uint c = 0; (long)c * _chunk < data.Length; c++)
            {
                int start = (int)(c * _chunk);
                var piece = data.Slice(start, Math.Min(_chunk, data.Length - start));
                int page;
                if (piece.Length == _chunk)
                {
                    page = _pageLog.Append(_pageLog.Hot, PageKind.Data, PageFlags.None, node.Id, c, txn, piece);
                }
                else
                {
                    var padded = _pageBuffer.AsSpan();
                    piece.CopyTo(padded);
                    padded[piece.Length..].Clear();
                    page = _pageLog.Append(_pageLog.Hot, PageKind.Data, PageFlags.None, node.Id, c, txn, padded);
                }

                _index.SetChunk(node, c, page);
                _blocks.SetValid(page);
            }

            _txns.Meta.AddInode(txn, node);
        }

        _index.SetModified(node, _pageLog.Sequence + 1);
    }
}

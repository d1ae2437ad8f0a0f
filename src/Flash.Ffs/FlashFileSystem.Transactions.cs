using Flash.Ffs.Index;

namespace Flash.Ffs;

/// <summary>Multi-operation transactions: validated against a simulated namespace, then written under one transaction id.</summary>
public sealed partial class FlashFileSystem
{
    internal void CommitTransaction(FlashTransaction batch)
    {
        lock (_lock)
        {
            EnsureWritable();
            if (batch.Ops.Count == 0)
            {
                return;
            }

            long pages = ValidateBatch(batch);
            EnsureSpace((int)Math.Min(pages, int.MaxValue));
            var txn = _txns.Begin();
            try
            {
                foreach (var op in batch.Ops)
                {
                    switch (op.Kind)
                    {
                        case FlashTransaction.OpKind.CreateDirectory:
                            CreateDirectoryCore(txn, op.Path);
                            break;
                        case FlashTransaction.OpKind.DeleteDirectory:
                            DeleteCore(txn, op.Path, directory: true);
                            break;
                        case FlashTransaction.OpKind.Delete:
                            DeleteCore(txn, op.Path, directory: false);
                            break;
                        case FlashTransaction.OpKind.Rename:
                            RenameCore(txn, op.Path, op.Destination!, op.Replace);
                            break;
                        case FlashTransaction.OpKind.WriteAllBytes:
                            WriteAllBytesCore(txn, op.Path, op.Data);
                            break;
                        case FlashTransaction.OpKind.WriteAt:
                            WriteAtCore(txn, op.Path, op.Offset, op.Data!);
                            break;
                    }
                }

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
    /// Checks every operation in order against the volume as the earlier operations of the batch would leave it,
    /// so that a batch that would fail part-way fails before anything is written. Returns the pages it needs.
    /// </summary>
    private long ValidateBatch(FlashTransaction batch)
    {
        // Path -> true (directory), false (file), null (deleted by the batch).
        var overlay = new Dictionary<string, bool?>(StringComparer.Ordinal);
        var sizes = new BatchSizes(this);
        long pages = 0;

        bool? KindOf(string path)
        {
            string norm = Normalize(path);
            if (overlay.TryGetValue(norm, out var kind))
            {
                return kind;
            }

            return TryResolve(norm) is { } node ? node.IsDirectory : null;
        }

        void RequireParentDirectory(string path)
        {
            string norm = Normalize(path);
            int slash = norm.LastIndexOf('/');
            string parent = slash <= 0 ? "/" : norm[..slash];
            if (parent == "/")
            {
                return;
            }

            switch (KindOf(parent))
            {
                case null:
                    throw new FlashPathNotFoundException(parent);
                case false:
                    throw new FlashEntryKindException(path, $"A parent of '{path}' is a file, not a directory.");
            }
        }

        bool IsOpen(string path) => overlay.ContainsKey(Normalize(path)) ? false : TryResolve(path) is { } node && HasOpenHandles(node);

        bool DirectoryEmpty(string path)
        {
            string norm = Normalize(path);
            string prefix = norm + "/";
            if (TryResolve(norm) is { Children: { } children } && !overlay.ContainsKey(norm))
            {
                foreach (var child in children)
                {
                    if (!overlay.TryGetValue(prefix + child.Name, out var k) || k is not null)
                    {
                        return false;
                    }
                }
            }

            return !overlay.Any(kv => kv.Value is not null && kv.Key.StartsWith(prefix, StringComparison.Ordinal) && !kv.Key[prefix.Length..].Contains('/'));
        }

        // A file a write may replace or change: its parent is a directory, it is not a directory itself, nor open.
        void RequireWritableFile(string given, string path)
        {
            RequireParentDirectory(path);
            if (KindOf(path) is true)
            {
                throw new FlashEntryKindException(given, $"'{given}' is a directory, not a file.");
            }

            if (IsOpen(path))
            {
                throw new FlashEntryKindException(given, $"'{given}' is open.");
            }
        }

        foreach (var op in batch.Ops)
        {
            SplitPath(op.Path);
            string path = Normalize(op.Path);
            if (path == "/")
            {
                throw new FlashInvalidPathException(op.Path, "The root directory cannot be changed by a transaction.");
            }

            switch (op.Kind)
            {
                case FlashTransaction.OpKind.CreateDirectory:
                    RequireParentDirectory(path);
                    if (KindOf(path) is not null)
                    {
                        throw new FlashPathExistsException(op.Path);
                    }

                    overlay[path] = true;
                    pages += 1;
                    break;

                case FlashTransaction.OpKind.DeleteDirectory:
                    if (KindOf(path) is not true)
                    {
                        throw KindOf(path) is null ? new FlashPathNotFoundException(op.Path) : new FlashEntryKindException(op.Path, $"'{op.Path}' is a file; use Delete.");
                    }

                    if (!DirectoryEmpty(path))
                    {
                        throw new FlashEntryKindException(op.Path, $"Directory '{op.Path}' is not empty.");
                    }

                    overlay[path] = null;
                    pages += 1;
                    break;

                case FlashTransaction.OpKind.Delete:
                    if (KindOf(path) is not false)
                    {
                        throw KindOf(path) is null ? new FlashPathNotFoundException(op.Path) : new FlashEntryKindException(op.Path, $"'{op.Path}' is a directory; use DeleteDirectory.");
                    }

                    if (IsOpen(path))
                    {
                        throw new FlashEntryKindException(op.Path, $"'{op.Path}' is open.");
                    }

                    overlay[path] = null;
                    sizes.Forget(path);
                    pages += 1;
                    break;

                case FlashTransaction.OpKind.Rename:
                {
                    SplitPath(op.Destination!);
                    string dest = Normalize(op.Destination!);
                    if (KindOf(path) is not false)
                    {
                        throw KindOf(path) is null ? new FlashPathNotFoundException(op.Path) : new FlashEntryKindException(op.Path, "Directories cannot be renamed inside a transaction; rename them on their own.");
                    }

                    RequireParentDirectory(dest);
                    var existing = KindOf(dest);
                    if (existing is true)
                    {
                        throw new FlashEntryKindException(op.Destination!, $"'{op.Destination}' is a directory; a file cannot replace it.");
                    }

                    if (existing is false && dest != path && (!op.Replace || IsOpen(dest)))
                    {
                        throw op.Replace ? new FlashEntryKindException(op.Destination!, $"'{op.Destination}' is open.") : new FlashPathExistsException(op.Destination!);
                    }

                    if (dest != path)
                    {
                        sizes.Move(path, dest);
                        overlay[path] = null;
                        overlay[dest] = false;
                    }

                    pages += 1;
                    break;
                }

                case FlashTransaction.OpKind.WriteAllBytes:
                    RequireWritableFile(op.Path, path);

                    overlay[path] = false;
                    sizes.Set(path, op.Data!.Length);
                    pages += PagesForContent(op.Data!.Length) + 1;
                    break;

                case FlashTransaction.OpKind.WriteAt:
                    RequireWritableFile(op.Path, path);

                    long size = KindOf(path) is null ? -1 : sizes.Of(path);
                    if (op.Offset > Math.Max(size, 0))
                    {
                        throw new FlashWriteRangeException(op.Path, op.Offset, size);
                    }

                    overlay[path] = false;
                    sizes.Set(path, Math.Max(size, op.Offset + op.Data!.Length));
                    pages += ChunksIn(op.Offset, op.Offset + op.Data.Length) + PagesForContent(_inlineMax + 1) + 1;
                    break;
            }
        }

        return pages + _txns.Meta.PagesFor(batch.Ops.Count * 300);
    }

    private static string Normalize(string path) => "/" + string.Join('/', SplitPath(path));
}

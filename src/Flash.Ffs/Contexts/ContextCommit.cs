namespace Flash.Ffs.Contexts;

/// <summary>
/// Stages the file changes of validated context operations into one file-system transaction: file writes with their
/// missing parent directories, deletes, and the removal of an area's whole tree. The table itself is staged by
/// <see cref="ContextTableCopies.Stage"/> in the same transaction, so files and table commit together or not at all.
/// </summary>
/// <remarks>
/// Operations reach this type only after <see cref="ContextTransitions"/> accepted them (paths clean, current area
/// untouched outside <c>config/</c>); it reads the file system only to learn which directories exist.
/// </remarks>
internal static class ContextCommit
{
    /// <summary>Stages the file changes of <paramref name="ops"/>, in order.</summary>
    /// <param name="fs">The file system the transaction belongs to.</param>
    /// <param name="txn">The open transaction.</param>
    /// <param name="ops">Validated operations.</param>
    internal static void StageFiles(FlashFileSystem fs, FlashTransaction txn, IReadOnlyList<ContextOperation> ops)
    {
        var created = new HashSet<string>(StringComparer.Ordinal);
        foreach (var op in ops)
        {
            switch (op.Kind)
            {
                case ContextOperationKind.Write:
                case ContextOperationKind.WriteConfiguration:
                    foreach (var (path, data) in op.Files!)
                    {
                        string abs = ContextPaths.Absolute(op.Area, path);
                        EnsureParents(fs, txn, abs, created);

                        // The operation owns its bytes and the commit happens before it is dropped: no copy.
                        if (op.At is { } at)
                        {
                            txn.WriteAtOwned(abs, at, data);
                        }
                        else
                        {
                            txn.WriteAllBytesOwned(abs, data);
                        }
                    }

                    break;
                case ContextOperationKind.Delete:
                    txn.Delete(ContextPaths.Absolute(op.Area, op.Path!));
                    break;
                case ContextOperationKind.Clear:
                    StageClear(fs, txn, op.Area.Directory());
                    break;
            }
        }
    }

    /// <summary>Creates the directories between the area and the file that do not exist yet (or are not staged yet).</summary>
    private static void EnsureParents(FlashFileSystem fs, FlashTransaction txn, string abs, HashSet<string> created)
    {
        // Skip the area directory itself ("/ctxN"): it always exists.
        int slash = abs.IndexOf('/', 1);
        slash = abs.IndexOf('/', slash + 1);
        while (slash > 0)
        {
            string dir = abs[..slash];
            if (!created.Contains(dir) && !fs.Exists(dir))
            {
                txn.CreateDirectory(dir);
                created.Add(dir);
            }

            slash = abs.IndexOf('/', slash + 1);
        }
    }

    /// <summary>Deletes every file below <paramref name="root"/>, then its directories deepest first; the root stays.</summary>
    private static void StageClear(FlashFileSystem fs, FlashTransaction txn, string root)
    {
        var entries = ContextPaths.Walk(fs, root).ToList();
        foreach (var e in entries.Where(e => !e.IsDirectory))
        {
            txn.Delete(e.Path);
        }

        foreach (var e in entries.Where(e => e.IsDirectory).OrderByDescending(e => e.Path.Length))
        {
            txn.DeleteDirectory(e.Path);
        }
    }
}

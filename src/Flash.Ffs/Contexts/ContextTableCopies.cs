namespace Flash.Ffs.Contexts;

/// <summary>
/// The two copies of a device's context table as a unit that a resynchronisation copies verbatim from one device to
/// another (the redundant pair's only access to the table files: it never names their paths).
/// </summary>
internal static class ContextTableCopies
{
    /// <summary>The copy that does not hold <paramref name="table"/>: the previous generation, kept as the fallback.</summary>
    /// <param name="table">The newest table of the device.</param>
    /// <returns>Its absolute path.</returns>
    internal static string OlderCopyPath(ContextTable table) => ContextStore.TablePath(table.Generation + 1);

    /// <summary>
    /// Stages, in <paramref name="txn"/> on <paramref name="fs"/>, both table copies as another device holds them: the
    /// newest <paramref name="table"/> and the older copy's bytes, or the older copy's removal when that device has none.
    /// </summary>
    /// <param name="txn">The target's transaction that also carries the rest of the final resync commit.</param>
    /// <param name="fs">The target's file system.</param>
    /// <param name="table">The source's newest table.</param>
    /// <param name="olderCopy">The source's older copy as stored, or null when it has none readable.</param>
    internal static void Stage(FlashTransaction txn, FlashFileSystem fs, ContextTable table, byte[]? olderCopy)
    {
        string older = OlderCopyPath(table);
        txn.WriteAllBytes(ContextStore.TablePath(table.Generation), table.Encode());
        if (olderCopy is not null)
        {
            txn.WriteAllBytes(older, olderCopy);
        }
        else if (fs.Exists(older))
        {
            txn.Delete(older);
        }
    }
}

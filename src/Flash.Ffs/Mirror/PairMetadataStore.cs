using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>
/// The pair's own metadata in the system directory of each device: the designation record and the resync mark. The
/// only place these paths are defined and the only code that writes them (the context table copies that live beside
/// them belong to the context store, see <see cref="ContextLayout"/>).
/// </summary>
/// <remarks>Stateless: every call names the device's file system (or its open transaction, so that a record can share
/// one atomic commit with other changes). The caller serialises device access.</remarks>
public static class PairMetadataStore
{
    /// <summary>Where each device keeps its <see cref="DesignationRecord"/>.</summary>
    public const string DesignationPath = ContextLayout.SystemDirectory + "/pair";

    /// <summary>
    /// Present (empty) while a device is being brought up to date from the other: such a device is "dirty" and is never
    /// served from; the mark is removed in the same commit as the copied context table.
    /// </summary>
    public const string ResyncMarkPath = ContextLayout.SystemDirectory + "/sync";

    /// <summary>Reads a device's designation record.</summary>
    /// <param name="fs">The device's file system.</param>
    /// <returns>The record, or null when it is absent, unreadable or not a valid record (the device then counts as blank).</returns>
    internal static DesignationRecord? ReadDesignation(FlashFileSystem fs)
    {
        try
        {
            return fs.Exists(DesignationPath) ? DesignationRecord.TryDecode(fs.ReadAllBytes(DesignationPath)) : null;
        }
        catch (FlashDataCorruptException)
        {
            return null;
        }
    }

    /// <summary>Writes a device's designation record (one atomic file write).</summary>
    /// <param name="fs">The device's file system.</param>
    /// <param name="record">The record.</param>
    internal static void WriteDesignation(FlashFileSystem fs, DesignationRecord record) => fs.WriteAllBytes(DesignationPath, record.Encode());

    /// <summary>Whether the device carries the resync mark.</summary>
    /// <param name="fs">The device's file system.</param>
    /// <returns>True while a copy onto it is unfinished.</returns>
    internal static bool IsMarkedForResync(FlashFileSystem fs) => fs.Exists(ResyncMarkPath);

    /// <summary>Sets the resync mark (rewritten when present).</summary>
    /// <param name="fs">The device's file system.</param>
    internal static void MarkForResync(FlashFileSystem fs) => fs.WriteAllBytes(ResyncMarkPath, []);

    /// <summary>
    /// Makes a freshly formatted device a member that is marked for resync, in one commit: until the designation record
    /// exists the device counts as blank, so the mark must not exist without it.
    /// </summary>
    /// <param name="fs">The device's file system.</param>
    /// <param name="record">Its designation record.</param>
    internal static void JoinMarkedForResync(FlashFileSystem fs, DesignationRecord record)
    {
        using var txn = fs.BeginTransaction();
        txn.WriteAllBytes(ResyncMarkPath, []);
        txn.WriteAllBytes(DesignationPath, record.Encode());
        txn.Commit();
    }

    /// <summary>
    /// The final commit of a resync: the source's table copies and the removal of the mark, atomically, so that a power
    /// cut leaves either the mark (the copy is redone) or a complete, consistent copy.
    /// </summary>
    /// <param name="fs">The target's file system.</param>
    /// <param name="table">The source's newest table.</param>
    /// <param name="olderCopy">The source's older table copy as stored, or null when it has none readable.</param>
    internal static void FinishResync(FlashFileSystem fs, ContextTable table, byte[]? olderCopy)
    {
        using var txn = fs.BeginTransaction();
        ContextTableCopies.StageAsOnSource(txn, fs, table, olderCopy);
        txn.Delete(ResyncMarkPath);
        txn.Commit();
    }
}

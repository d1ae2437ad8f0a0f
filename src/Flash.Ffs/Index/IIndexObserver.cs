namespace Flash.Ffs.Index;

/// <summary>
/// Told by <see cref="IndexMutator"/> before an entry changes or goes away, while it still reads as it was: the
/// incremental checkpoint writes an entry whose turn has not come yet as it was at the checkpoint's start
/// (copy-on-write). A plain interface call, so the hot path allocates nothing.
/// </summary>
internal interface IIndexObserver
{
    /// <summary>The entry is about to change (a field, its name or place, its chunk map) or to be removed.</summary>
    /// <param name="node">The entry, unchanged yet.</param>
    void Changing(Node node);
}

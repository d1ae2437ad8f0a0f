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

    /// <summary>The mapping of chunks [<paramref name="first"/>, <paramref name="end"/>) of the file is about to change (mapped anew or unmapped); only that changes.</summary>
    /// <param name="node">The file, unchanged yet.</param>
    /// <param name="first">The first chunk.</param>
    /// <param name="end">One past the last.</param>
    void ChunksChanging(Node node, uint first, uint end);

    /// <summary>The entry is about to change in a way other than its size, modification sequence or chunk mappings (created, named, placed, removed, its data's kind).</summary>
    /// <param name="node">The entry, unchanged yet.</param>
    void Reshaping(Node node);
}

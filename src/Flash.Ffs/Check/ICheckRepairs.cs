using Flash.Ffs.Index;

namespace Flash.Ffs.Check;

/// <summary>
/// What a check needs from the facade beyond the index, the block table and page I/O: paths for its messages and the
/// repairs that touch state still kept in the facade's partial files (inline-page references, the lost-chunk set,
/// page validity, the checkpoint writer).
/// </summary>
internal interface ICheckRepairs
{
    /// <summary>The path of an entry, for messages.</summary>
    /// <param name="node">The entry.</param>
    /// <returns>Its absolute path.</returns>
    string PathOf(Node node);

    /// <summary>Drops one reference to an inline page (the entry no longer points at it).</summary>
    /// <param name="page">The page.</param>
    void ReleaseInline(int page);

    /// <summary>Notes that a chunk of a file was dropped as unreadable, so reads of it report corruption, not zeros.</summary>
    /// <param name="id">The entry.</param>
    /// <param name="chunk">The chunk (0 for inline data).</param>
    void ChunkLost(uint id, uint chunk);

    /// <summary>Rebuilds page validity and the inline-page references from the index.</summary>
    void RebuildValidity();

    /// <summary>Writes a checkpoint of the repaired state.</summary>
    void WriteCheckpoint();
}

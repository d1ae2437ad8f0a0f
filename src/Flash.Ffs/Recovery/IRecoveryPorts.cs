namespace Flash.Ffs.Recovery;

/// <summary>The newest intact anchor page and what it says about the checkpoint and the anchor blocks.</summary>
/// <param name="Block">The block the anchor page was found in.</param>
/// <param name="NextFree">The first erased page of that block: where the next anchor page goes.</param>
/// <param name="Sequence">The anchor page's sequence number (it took one, like every program).</param>
/// <param name="CheckpointPages">The checkpoint's pages, in order.</param>
/// <param name="CheckpointLength">The checkpoint body's length in bytes.</param>
/// <param name="CheckpointCrc">The CRC-32C of the checkpoint body.</param>
/// <param name="AnchorBlock0">The first anchor block the anchor names.</param>
/// <param name="AnchorBlock1">The second anchor block the anchor names.</param>
internal readonly record struct FoundAnchor(int Block, int NextFree, ulong Sequence, List<int> CheckpointPages, int CheckpointLength, uint CheckpointCrc, int AnchorBlock0, int AnchorBlock1);

/// <summary>
/// What recovery needs from components that still live in the facade's partial files: the anchor store, the
/// open-transaction coverage and the inline-page references. A port, not a callback: recovery calls down through it,
/// and each member forwards to the facade member of the old name, so the lead can re-point it when those components
/// become types of their own.
/// </summary>
internal interface IRecoveryPorts
{
    /// <summary>Finds the newest intact anchor and decodes it (the anchor store keeps the volume id, label and anchor blocks it names).</summary>
    /// <returns>The anchor.</returns>
    /// <exception cref="FileSystemCorruptException">No valid anchor was found.</exception>
    /// <exception cref="GeometryMismatchException">The volume was formatted for another geometry.</exception>
    FoundAnchor FindAnchor();

    /// <summary>Refuses a read-write mount when the anchor does not sit in the blocks the checkpoint records as anchor blocks.</summary>
    /// <param name="foundIn">The block the anchor was found in.</param>
    void RefuseWritesToMovedAnchors(int foundIn);

    /// <summary>
    /// Adds to <paramref name="logged"/> the pages of the transactions the checkpoint listed as open (written before
    /// it, committed after it, perhaps) and holds their blocks until the next checkpoint; returns the transactions to
    /// distrust because a page of a listed block cannot be read (added to <paramref name="damaged"/>).
    /// </summary>
    /// <param name="open">The open transactions the checkpoint lists, with their blocks.</param>
    /// <param name="checkpointSequence">The checkpoint's sequence number.</param>
    /// <param name="logged">The log pages found after the checkpoint.</param>
    /// <param name="damaged">Damaged pages found so far.</param>
    /// <returns>The transactions none of whose changes may apply.</returns>
    HashSet<uint> ScanOpenTransactions(List<(uint Txn, int[] Blocks)> open, ulong checkpointSequence, List<LoggedPage> logged, List<int> damaged);

    /// <summary>Rebuilds page validity and the inline-page references from the index.</summary>
    void RebuildValidity();
}

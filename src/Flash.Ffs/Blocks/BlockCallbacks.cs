namespace Flash.Ffs.Blocks;

/// <summary>
/// Where <see cref="BlockPool"/> reports blocks leaving service. The pool changes the block's state; what else must
/// happen (moving a retired block's live pages, which the index points at; counting it in the metrics) belongs to
/// the layers above, which implement this.
/// </summary>
internal interface IBlockRetirementSink
{
    /// <summary>
    /// A program failed in <paramref name="block"/>: it is now Retiring (marked bad at the next checkpoint) and its
    /// live pages must be moved elsewhere before anything else is written.
    /// </summary>
    void BlockRetired(int block);

    /// <summary><paramref name="block"/> was marked bad (its erase or a checkpoint program failed, or it finished retiring).</summary>
    void BlockMarkedBad(int block);
}

/// <summary>
/// Garbage collection's say over empty blocks: <see cref="BlockPool.ReclaimEmptyBlocks"/> returns a full block without
/// live pages to the free pool only when its owner allows it (the block is movable and not the victim being emptied),
/// and tells it so that its bookkeeping (scrub queue, reclaimed count) follows.
/// </summary>
internal interface IReclaimPolicy
{
    /// <summary>Whether the empty <paramref name="block"/> may go back to the free pool now.</summary>
    bool MayReclaim(int block);

    /// <summary><paramref name="block"/> went back to the free pool, to be erased before use.</summary>
    void Reclaimed(int block);
}

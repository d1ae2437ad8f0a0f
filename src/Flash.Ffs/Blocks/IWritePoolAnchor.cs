namespace Flash.Ffs.Blocks;

/// <summary>Writes a refill anchor: the anchor store, seen from the pool (which must not know how anchors are written).</summary>
internal interface IWritePoolAnchor
{
    /// <summary>
    /// Appends an anchor page for the current checkpoint whose write pool lists what must stay listed,
    /// <paramref name="block"/> and more free blocks (<see cref="BlockPool.ChoosePoolForAnchor"/>), then adopts it.
    /// </summary>
    /// <param name="block">The block a write is about to take.</param>
    void WriteRefillAnchor(int block);
}

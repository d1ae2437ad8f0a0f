namespace Flash.Ffs.Index;

/// <summary>
/// The chunks of files whose only copy could not be read (a page unreadable while being moved, or dropped by a
/// repairing check): a read of one reports corruption instead of returning zeros. Kept in RAM only: the checkpoint
/// format has no record for them (a format matter, issue 16), so after the next mount such a chunk reads as a hole.
/// </summary>
internal sealed class LostChunks
{
    private readonly HashSet<(uint Id, uint Chunk)> _lost = [];

    /// <summary>RAM held: this object and its set of (entry id, chunk) pairs.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference) + RamSize.HashSet(16, _lost.Capacity);

    /// <summary>How many chunks are lost.</summary>
    public int Count => _lost.Count;

    /// <summary>Records that chunk <paramref name="chunk"/> (0 for inline data) of entry <paramref name="id"/> is lost.</summary>
    /// <param name="id">The entry.</param>
    /// <param name="chunk">The chunk.</param>
    public void Add(uint id, uint chunk) => _lost.Add((id, chunk));

    /// <summary>Whether chunk <paramref name="chunk"/> of entry <paramref name="id"/> is lost.</summary>
    /// <param name="id">The entry.</param>
    /// <param name="chunk">The chunk.</param>
    /// <returns>True when it is.</returns>
    public bool Contains(uint id, uint chunk) => _lost.Contains((id, chunk));
}

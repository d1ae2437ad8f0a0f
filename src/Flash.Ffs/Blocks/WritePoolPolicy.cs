namespace Flash.Ffs.Blocks;

/// <summary>
/// How large the write pool is and which blocks it lists (docs/format.md, "Anchor page"): pure functions of the
/// interval, the checkpoint's size, the room the anchor page has and the free blocks in the order the allocator would
/// take them. Issue 19: a mount after a power cut reads the pool's blocks, not the device, so the pool must cover what
/// an interval writes (refilling costs an anchor page) and no more (each entry is a tag read at the next recovery).
/// </summary>
internal static class WritePoolPolicy
{
    /// <summary>Blocks above two intervals and the checkpoint's: garbage-collection destinations, wear levelling, a retirement.</summary>
    public const int SpareBlocks = 4;

    /// <summary>
    /// Blocks a pool lists when chosen at an anchor: two checkpoint intervals of head blocks (the hot and the cold head
    /// each may fill up to an interval before the next checkpoint commits), the next checkpoint's blocks and
    /// <see cref="SpareBlocks"/>.
    /// </summary>
    /// <param name="intervalBlocks">Blocks written between checkpoints (<see cref="FlashFileSystemOptions.CheckpointIntervalBlocks"/>).</param>
    /// <param name="checkpointBlocks">Blocks the checkpoint fills.</param>
    public static int Target(int intervalBlocks, int checkpointBlocks)
        => (2 * Math.Max(1, intervalBlocks)) + Math.Max(1, checkpointBlocks) + SpareBlocks;

    /// <summary>
    /// The pool to record: first the blocks it must keep (taken since the checkpoint, so that recovery still reads
    /// them), then the reserved blocks (the next ones the heads and the checkpoint open), then free blocks taking turns
    /// from the least-worn order (the hot head's and the checkpoint's) and the most-worn order (the cold head's), each
    /// block once, until <paramref name="target"/> entries or the free blocks run out. Null when the kept and reserved
    /// blocks alone do not fit <paramref name="room"/>: the anchor then records no pool (recovery scans everything).
    /// </summary>
    /// <param name="keep">Blocks that must stay listed.</param>
    /// <param name="reserved">Reserved free blocks (-1 entries are skipped).</param>
    /// <param name="leastWorn">Free blocks in the least-worn pick order.</param>
    /// <param name="mostWorn">Free blocks in the most-worn pick order.</param>
    /// <param name="target">Entries wanted (<see cref="Target"/>).</param>
    /// <param name="room">Entries the anchor page has room for.</param>
    public static int[]? Compose(IEnumerable<int> keep, IEnumerable<int> reserved, IEnumerable<int> leastWorn, IEnumerable<int> mostWorn, int target, int room)
    {
        var chosen = new List<int>();
        var seen = new HashSet<int>();
        foreach (int b in keep.Concat(reserved))
        {
            if (b >= 0 && seen.Add(b))
            {
                chosen.Add(b);
            }
        }

        if (chosen.Count > room)
        {
            return null;
        }

        int limit = Math.Min(room, Math.Max(target, chosen.Count + SpareBlocks));
        using var least = leastWorn.GetEnumerator();
        using var most = mostWorn.GetEnumerator();
        bool leastLeft = true, mostLeft = true;
        bool turn = false;
        while (chosen.Count < limit && (leastLeft || mostLeft))
        {
            turn = !turn;
            var source = turn ? least : most;
            if (turn ? !leastLeft : !mostLeft)
            {
                continue;
            }

            if (!source.MoveNext())
            {
                if (turn)
                {
                    leastLeft = false;
                }
                else
                {
                    mostLeft = false;
                }

                continue;
            }

            if (seen.Add(source.Current))
            {
                chosen.Add(source.Current);
            }
        }

        return [.. chosen];
    }
}

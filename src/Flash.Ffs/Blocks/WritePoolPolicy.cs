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
    /// block once, until <paramref name="target"/> entries or the free blocks run out. -1 when the kept and reserved
    /// blocks alone do not fit <paramref name="room"/>: the anchor then records no pool (recovery scans everything).
    /// Allocates nothing (a refill anchor chooses a pool on the write path): the caller lends the scratch.
    /// </summary>
    /// <typeparam name="TLeast">The least-worn walk's type (a struct, so that nothing is boxed).</typeparam>
    /// <typeparam name="TMost">The most-worn walk's type.</typeparam>
    /// <param name="keep">Blocks that must stay listed.</param>
    /// <param name="keepToo">More blocks that must stay listed, after those.</param>
    /// <param name="reserved">Reserved free blocks (-1 entries are skipped).</param>
    /// <param name="leastWorn">Free blocks in the least-worn pick order.</param>
    /// <param name="mostWorn">Free blocks in the most-worn pick order.</param>
    /// <param name="target">Entries wanted (<see cref="Target"/>).</param>
    /// <param name="room">Entries the anchor page has room for.</param>
    /// <param name="seen">One flag per block, all false; left all false.</param>
    /// <param name="chosen">Receives the pool; at least <paramref name="room"/> entries.</param>
    /// <returns>The entries written to <paramref name="chosen"/>, or -1.</returns>
    public static int Compose<TLeast, TMost>(ReadOnlySpan<int> keep, ReadOnlySpan<int> keepToo, ReadOnlySpan<int> reserved, TLeast leastWorn, TMost mostWorn,
        int target, int room, Span<bool> seen, Span<int> chosen)
        where TLeast : IEnumerator<int>
        where TMost : IEnumerator<int>
    {
        if (room < 0)
        {
            return -1;
        }

        int count = 0;
        bool fits = Keep(keep, seen, chosen, room, ref count) && Keep(keepToo, seen, chosen, room, ref count) && Keep(reserved, seen, chosen, room, ref count);
        if (!fits)
        {
            Forget(chosen[..count], seen);
            return -1;
        }

        int limit = Math.Min(room, Math.Max(target, count + SpareBlocks));
        bool leastLeft = true, mostLeft = true;
        bool turn = false;
        while (count < limit && (leastLeft || mostLeft))
        {
            turn = !turn;
            if (turn ? !leastLeft : !mostLeft)
            {
                continue;
            }

            bool moved = turn ? leastWorn.MoveNext() : mostWorn.MoveNext();
            if (!moved)
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

            int b = turn ? leastWorn.Current : mostWorn.Current;
            if (!seen[b])
            {
                seen[b] = true;
                chosen[count++] = b;
            }
        }

        Forget(chosen[..count], seen);
        return count;
    }

    /// <summary>
    /// Whether the cold head may reserve an erased block of <paramref name="erasedCount"/> erases rather than open
    /// <paramref name="nextCount"/>'s block (the most-worn free member it would take, erased when opened; null: none)
    /// when it fills: no more than one erase below that block's count now (two once it is erased). Issue 19: in W5 the only erased members are
    /// wear-levelling victims just reclaimed, the least-worn blocks of the device; reserved for the cold head, they
    /// took the cold data a wear-levelling move had just taken off such a block (one move in eight was wasted).
    /// </summary>
    /// <param name="erasedCount">Erase count of the erased block the reservation would take.</param>
    /// <param name="nextCount">Erase count of the block the cold head opens otherwise, or null when there is none.</param>
    public static bool ColdReservationWornEnough(uint erasedCount, uint? nextCount)
        => nextCount is not { } next || erasedCount + 1 >= next;

    /// <summary>Appends the blocks not yet chosen; false as soon as one more would exceed <paramref name="room"/>.</summary>
    private static bool Keep(ReadOnlySpan<int> blocks, Span<bool> seen, Span<int> chosen, int room, ref int count)
    {
        foreach (int b in blocks)
        {
            if (b < 0 || seen[b])
            {
                continue;
            }

            if (count >= room)
            {
                return false;
            }

            seen[b] = true;
            chosen[count++] = b;
        }

        return true;
    }

    private static void Forget(ReadOnlySpan<int> chosen, Span<bool> seen)
    {
        foreach (int b in chosen)
        {
            seen[b] = false;
        }
    }
}

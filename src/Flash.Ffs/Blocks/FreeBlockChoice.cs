using Flash.Ffs.Wear;

namespace Flash.Ffs.Blocks;

/// <summary>
/// Which free block is used next, as pure functions of the block table and the reservations (docs/wear.md has the
/// rules). They read only; <see cref="BlockPool"/> applies their choice.
/// </summary>
internal static class FreeBlockChoice
{
    /// <summary>
    /// The free block a head opens next: the least-worn one for new writes; for the cold head (relocated, resting data)
    /// the most-worn one whose erase would not set a new device maximum, so that data which will rest a long time lands
    /// on a worn block without pushing that block further ahead of all others (when every free block is at the
    /// maximum, the least-worn one). Among equally worn blocks, one already erased. Reserved blocks are skipped unless
    /// <paramref name="ignoreReservations"/>. -1 when there is none.
    /// </summary>
    public static int PickFree(BlockTable blocks, BlockReservations reservations, bool mostWorn, bool ignoreReservations)
    {
        double cap = mostWorn ? EraseCounts(blocks).Max - 1.0 : double.MaxValue;
        int best = -1;
        for (int b = 0; b < blocks.Count; b++)
        {
            if (blocks.State[b] != BlockState.Free || (!ignoreReservations && reservations.Holds(b)))
            {
                continue;
            }

            if (best < 0)
            {
                best = b;
                continue;
            }

            uint ec = blocks.EraseCount[b], bestEc = blocks.EraseCount[best];
            bool better;
            if (!mostWorn)
            {
                better = ec < bestEc;
            }
            else if (bestEc > cap)
            {
                better = ec < bestEc;
            }
            else
            {
                better = ec > bestEc && ec <= cap;
            }

            // No erase on the write path when an equally worn block is already erased.
            if (better || (ec == bestEc && blocks.Erased[b] && !blocks.Erased[best]))
            {
                best = b;
            }
        }

        return best;
    }

    /// <summary>
    /// An erased free block nobody has reserved and other than <paramref name="exclude"/> (so its first page reads
    /// erased until someone opens it): the most- or least-worn one, the first of equals. -1 when there is none.
    /// </summary>
    public static int PickReservable(BlockTable blocks, BlockReservations reservations, bool mostWorn, int exclude)
    {
        int best = -1;
        for (int b = 0; b < blocks.Count; b++)
        {
            if (blocks.State[b] != BlockState.Free || !blocks.Erased[b] || b == exclude || reservations.Holds(b))
            {
                continue;
            }

            if (best < 0 || (mostWorn ? blocks.EraseCount[b] > blocks.EraseCount[best] : blocks.EraseCount[b] < blocks.EraseCount[best]))
            {
                best = b;
            }
        }

        return best;
    }

    /// <summary>Highest and mean erase count over the blocks the log uses (good blocks outside the anchors).</summary>
    public static (uint Max, double Mean) EraseCounts(BlockTable blocks)
    {
        uint max = 0;
        long sum = 0;
        int good = 0;
        for (int b = 0; b < blocks.Count; b++)
        {
            if (blocks.IsUsable(b) && blocks.State[b] != BlockState.Anchor)
            {
                max = Math.Max(max, blocks.EraseCount[b]);
                sum += blocks.EraseCount[b];
                good++;
            }
        }

        return (max, good == 0 ? 0 : (double)sum / good);
    }

    /// <summary>Good blocks outside the anchors: the ones the log, checkpoints and the reserve share.</summary>
    public static int GoodBlocks(BlockTable blocks)
    {
        int good = 0;
        for (int b = 0; b < blocks.Count; b++)
        {
            if (blocks.IsUsable(b) && blocks.State[b] != BlockState.Anchor)
            {
                good++;
            }
        }

        return good;
    }
}

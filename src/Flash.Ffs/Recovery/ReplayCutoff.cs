namespace Flash.Ffs.Recovery;

/// <summary>
/// Where replay must stop so that it never applies a change whose pages it has not all read. Every page program takes
/// the next sequence number (data, metadata, checkpoint and anchor pages, and a failed program too), so after the
/// checkpoint the pages found on flash must carry consecutive numbers up to the newest one; a number that is missing
/// is a page that was there and can no longer be read (a damaged tag, an erased or overwritten page). The page that
/// a power cut tore is always the newest and leaves no gap. When the tags' ordinals account for every missing number
/// (<see cref="TxnPageAccounting"/>), replay drops only the transactions that lost pages; otherwise it applies only
/// what committed before the first gap.
/// </summary>
internal static class ReplayCutoff
{
    /// <summary>
    /// The first missing sequence number above <paramref name="checkpointSeq"/> in <paramref name="sortedSeen"/>
    /// (ascending, duplicates allowed), or <see cref="ulong.MaxValue"/> when there is none. A jump of at least
    /// <paramref name="recoveryGap"/> is the gap an earlier recovery left on purpose (when it could not write its
    /// checkpoint).
    /// </summary>
    public static ulong FirstGap(IReadOnlyList<ulong> sortedSeen, ulong checkpointSeq, ulong recoveryGap)
    {
        ulong expected = checkpointSeq + 1;
        foreach (ulong seq in sortedSeen)
        {
            if (seq < expected)
            {
                continue;
            }

            if (seq > expected)
            {
                if (seq - expected < recoveryGap)
                {
                    return expected;
                }
            }

            expected = seq + 1;
        }

        return ulong.MaxValue;
    }

    /// <summary>
    /// How many sequence numbers above <paramref name="checkpointSeq"/> are missing from <paramref name="sortedSeen"/>
    /// (ascending, duplicates allowed), not counting jumps of at least <paramref name="recoveryGap"/> (as <see cref="FirstGap"/>).
    /// </summary>
    public static long MissingCount(IReadOnlyList<ulong> sortedSeen, ulong checkpointSeq, ulong recoveryGap)
    {
        ulong expected = checkpointSeq + 1;
        long missing = 0;
        foreach (ulong seq in sortedSeen)
        {
            if (seq < expected)
            {
                continue;
            }

            if (seq > expected && seq - expected < recoveryGap)
            {
                missing += (long)(seq - expected);
            }

            expected = seq + 1;
        }

        return missing;
    }
}

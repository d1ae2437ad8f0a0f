using Flash.Ffs.Format;

namespace Flash.Ffs.Recovery;

/// <summary>What <see cref="TxnPageAccounting"/> made of the sequence numbers missing from the log.</summary>
/// <param name="Cutoff">Where replay stops: the first missing number when not every one is accounted for, else <see cref="ulong.MaxValue"/>.</param>
/// <param name="Incomplete">Committed transactions that lost a data page: each is dropped alone (with what depends on it).</param>
/// <param name="LostCopies">Self-contained pages lost, as the sequences of the readable ones around each (garbage-collection copies).</param>
internal sealed record LostPageAccount(ulong Cutoff, IReadOnlySet<uint> Incomplete, IReadOnlyList<(ulong After, ulong Before, int Count)> LostCopies);

/// <summary>
/// Accounts for the pages of the log that went missing (a damaged tag, a damaged last page of a block): which
/// transaction each belonged to, so that replay drops only that transaction and what depends on it instead of
/// everything after it. Pure policy over the scan's result; docs/format.md ("Page tag", version 4) defines it.
/// </summary>
/// <remarks>
/// Every page program takes the next sequence number, so after the checkpoint each missing number is one lost page
/// (<see cref="ReplayCutoff"/>). A version-4 tag carries an ordinal: a transaction's pages count 0, 1, 2, ... and the
/// commit page's ordinal plus one is how many it wrote; self-contained pages (transaction 0, only ever
/// garbage-collection copies) count through the mount. A committed transaction missing ordinals lost that many
/// pages; self-contained ordinals skipped between two readable copies are copies lost. When those losses add up to
/// exactly the numbers missing, every missing page is one of them: nothing else was lost (no commit page, no page of
/// an uncommitted transaction, no checkpoint page), so replay need not stop. A transaction is dropped alone only when
/// each page it lost held data (the next page of the transaction says so): a lost metadata page's records are
/// unknown, so what depends on them could not be told. Anything else, or any tag older than version 4, keeps the
/// cut-off at the first missing number.
/// </remarks>
internal static class TxnPageAccounting
{
    /// <summary>Accounts for the missing sequence numbers of a scan.</summary>
    /// <param name="sortedSeen">Every sequence above the checkpoint's that a readable page carries, ascending.</param>
    /// <param name="logged">The log pages (data and metadata), ascending by sequence; open transactions' earlier pages included.</param>
    /// <param name="checkpointSeq">The checkpoint's sequence.</param>
    /// <param name="recoveryGap">A jump at least this large is the gap an earlier recovery left on purpose.</param>
    /// <param name="openAtCheckpoint">Transactions the checkpoint lists as open (they may have lost pages before it, which leave no gap).</param>
    /// <returns>The cutoff and what replay drops instead.</returns>
    public static LostPageAccount Account(IReadOnlyList<ulong> sortedSeen, IReadOnlyList<LoggedPage> logged, ulong checkpointSeq, ulong recoveryGap, IReadOnlyCollection<uint> openAtCheckpoint)
    {
        ulong firstGap = ReplayCutoff.FirstGap(sortedSeen, checkpointSeq, recoveryGap);
        var none = new LostPageAccount(firstGap, new HashSet<uint>(), []);
        if (firstGap == ulong.MaxValue)
        {
            return none;
        }

        long missing = ReplayCutoff.MissingCount(sortedSeen, checkpointSeq, recoveryGap);
        var byTxn = new Dictionary<uint, List<PageTag>>();
        var copies = new List<PageTag>();
        foreach (var page in logged)
        {
            if (!page.Tag.HasOrdinal)
            {
                return none;
            }

            if (page.Tag.TxnId != 0)
            {
                if (!byTxn.TryGetValue(page.Tag.TxnId, out var list))
                {
                    byTxn[page.Tag.TxnId] = list = [];
                }

                list.Add(page.Tag);
            }
            else if (page.Sequence > checkpointSeq)
            {
                copies.Add(page.Tag);
            }
        }

        long explained = 0;
        var incomplete = new HashSet<uint>();
        foreach (var (txn, pages) in byTxn)
        {
            int lost = LostDataPages(pages);
            if (lost < 0)
            {
                return none;
            }

            if (lost > 0)
            {
                if (openAtCheckpoint.Contains(txn))
                {
                    return none;
                }

                incomplete.Add(txn);
                explained += lost;
            }
        }

        var lostCopies = new List<(ulong, ulong, int)>();
        for (int i = 1; i < copies.Count; i++)
        {
            if (copies[i].Sequence - copies[i - 1].Sequence >= recoveryGap)
            {
                continue;
            }

            int skipped = (ushort)(copies[i].Ordinal - copies[i - 1].Ordinal - 1);
            if (skipped > 0)
            {
                lostCopies.Add((copies[i - 1].Sequence, copies[i].Sequence, skipped));
                explained += skipped;
            }
        }

        return explained == missing ? new LostPageAccount(ulong.MaxValue, incomplete, lostCopies) : none;
    }

    /// <summary>
    /// How many pages the transaction with tags <paramref name="pages"/> lost, all of them data pages; 0 when none or
    /// when it has no commit page (it is dropped anyway, and its lost pages stay unaccounted for); -1 when its losses
    /// cannot be accounted for (a lost metadata page, ordinals that do not add up).
    /// </summary>
    private static int LostDataPages(List<PageTag> pages)
    {
        int commit = -1;
        foreach (var tag in pages)
        {
            if (tag.IsCommit)
            {
                commit = tag.Ordinal;
            }
        }

        if (commit < 0 || pages.Count > commit + 1)
        {
            return commit < 0 ? 0 : -1;
        }

        if (pages.Count == commit + 1)
        {
            return 0;
        }

        // Which ordinals are there, and whether the page before each was metadata.
        var seen = new bool[commit + 1];
        var afterMeta = new bool[commit + 1];
        foreach (var tag in pages)
        {
            if (tag.Ordinal > commit || seen[tag.Ordinal])
            {
                return -1;
            }

            seen[tag.Ordinal] = true;
            afterMeta[tag.Ordinal] = tag.IsAfterMeta;
        }

        int lost = 0;
        for (int k = 0; k < commit; k++)
        {
            if (!seen[k])
            {
                // The next page says what this one was; if it is lost too, nothing does.
                if (!seen[k + 1] || afterMeta[k + 1])
                {
                    return -1;
                }

                lost++;
            }
        }

        return lost;
    }
}

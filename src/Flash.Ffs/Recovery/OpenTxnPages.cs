using Flash.Ffs.Checkpoint;
using Flash.Ffs.Format;
using Flash.Ffs.Log;

namespace Flash.Ffs.Recovery;

/// <summary>
/// Recovery's side of checkpoints taken over open transactions (<see cref="OpenTxnCoverage"/> owns the coverage): the
/// pages those transactions wrote before the checkpoint, read from the blocks it lists. They join the log (their
/// sequences sort them first) and apply only if their transaction's commit page follows.
/// </summary>
internal static class OpenTxnPages
{
    /// <summary>
    /// Adds to <paramref name="logged"/> the pages of the transactions the checkpoint listed as open and holds their
    /// blocks (through <paramref name="coverage"/>) until the next checkpoint. Returns the listed transactions to
    /// distrust: when a page of a listed block cannot be read, it may have been one of theirs, so none of them may apply.
    /// </summary>
    /// <param name="coverage">The open-transaction coverage, which holds the listed blocks.</param>
    /// <param name="io">Page and tag I/O of the device.</param>
    /// <param name="pagesPerBlock">Pages a block of the device.</param>
    /// <param name="open">The open transactions the checkpoint lists, with their blocks.</param>
    /// <param name="checkpointSequence">The checkpoint's sequence number.</param>
    /// <param name="logged">The log pages found after the checkpoint.</param>
    /// <param name="damaged">Damaged pages found so far.</param>
    /// <returns>The transactions none of whose changes may apply.</returns>
    public static HashSet<uint> Scan(
        OpenTxnCoverage coverage, PageIo io, int pagesPerBlock, List<(uint Txn, int[] Blocks)> open, ulong checkpointSequence, List<LoggedPage> logged, List<int> damaged)
    {
        // Until a new checkpoint commits, the mounted one (and its list) is what the next recovery starts from: the
        // coverage holds the listed blocks.
        coverage.ListedAtMount = open;
        if (coverage.TakeListedAtMount() is not { } listed)
        {
            return [];
        }

        var (ids, blocks) = listed;

        bool unreadable = false;
        foreach (int block in blocks)
        {
            // Bad blocks too: one retired after a failed program keeps its earlier pages (nothing erases it again).
            int suspect = -1;
            for (int i = 0; i < pagesPerBlock; i++)
            {
                int page = (block * pagesPerBlock) + i;
                var status = io.ReadTag(page, out var tag);
                if (status == PageReadStatus.Erased)
                {
                    break;
                }

                if (status != PageReadStatus.Ok && !io.Device.IsBad(block))
                {
                    suspect = page;
                    continue;
                }

                if (status == PageReadStatus.Ok && suspect >= 0)
                {
                    // A page follows it, so it is no torn last page: it was written and is now unreadable.
                    damaged.Add(suspect);
                    unreadable = true;
                    suspect = -1;
                }

                if (status == PageReadStatus.Ok && tag.Sequence <= checkpointSequence && ids.Contains(tag.TxnId)
                    && tag.Kind is PageKind.Data or PageKind.Meta)
                {
                    logged.Add(new LoggedPage(tag.Sequence, page, tag));
                }
            }
        }

        return unreadable ? ids : [];
    }
}

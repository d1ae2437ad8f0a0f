using Flash.Ffs.Checkpoint;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;

namespace Flash.Ffs;

/// <summary>
/// Recovery's side of checkpoints taken over open transactions (see <see cref="OpenTxnCoverage"/>, which owns the
/// coverage): the pages those transactions wrote before the checkpoint.
/// </summary>
public sealed partial class FlashFileSystem
{
    /// <summary>
    /// Recovery: the pages that transactions open at the checkpoint wrote before it, from the blocks it lists. They
    /// join the log (their sequences sort them first) and apply only if their transaction's commit page follows.
    /// Returns the listed transactions to distrust: when a page of a listed block cannot be read, it may have been
    /// one of theirs, so none of them may apply.
    /// </summary>
    private HashSet<uint> ScanOpenTxnBlocks(List<LoggedPage> logged, List<int> damaged)
    {
        // Until a new checkpoint commits, the mounted one (and its list) is what the next recovery starts from: the
        // coverage holds the listed blocks.
        if (_checkpoint.Coverage.TakeListedAtMount() is not { } listed)
        {
            return [];
        }

        var (ids, blocks) = listed;

        bool unreadable = false;
        foreach (int block in blocks)
        {
            // Bad blocks too: one retired after a failed program keeps its earlier pages (nothing erases it again).
            int suspect = -1;
            for (int i = 0; i < _ppb; i++)
            {
                int page = (block * _ppb) + i;
                var status = _io.ReadTag(page, out var tag);
                if (status == PageReadStatus.Erased)
                {
                    break;
                }

                if (status != PageReadStatus.Ok && !_device.IsBad(block))
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

                if (status == PageReadStatus.Ok && tag.Sequence <= _checkpoint.Sequence && ids.Contains(tag.TxnId)
                    && tag.Kind is PageKind.Data or PageKind.Meta)
                {
                    logged.Add(new LoggedPage(tag.Sequence, page, tag));
                }
            }
        }

        return unreadable ? ids : [];
    }
}

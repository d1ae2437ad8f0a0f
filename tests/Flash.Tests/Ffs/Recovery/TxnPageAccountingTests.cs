using Flash.Ffs.Format;
using Flash.Ffs.Recovery;

namespace Flash.Tests.Ffs.Recovery;

/// <summary>
/// The accounting of lost log pages (format version 4): replay keeps going past a missing sequence number only when
/// the tags' ordinals say exactly which committed transaction (or garbage-collection copy) every missing one was.
/// </summary>
public class TxnPageAccountingTests
{
    private const ulong Gap = 1UL << 19;

    private static LoggedPage Page(ulong seq, uint txn, ushort ordinal, bool commit = false, PageKind kind = PageKind.Data, bool afterMeta = false, bool v4 = true)
        => new(seq, (int)seq, new PageTag
        {
            Kind = kind,
            Flags = (commit ? PageFlags.Commit : PageFlags.None) | (afterMeta ? PageFlags.AfterMeta : PageFlags.None) | (txn == 0 ? PageFlags.Relocated : PageFlags.None),
            Sequence = seq,
            TxnId = txn,
            Ordinal = ordinal,
            HasOrdinal = v4,
        });

    private static LostPageAccount Account(IEnumerable<LoggedPage> pages, params uint[] open)
    {
        var logged = pages.OrderBy(p => p.Sequence).ToList();
        return TxnPageAccounting.Account(logged.Select(p => p.Sequence).Where(s => s > 10).ToList(), logged, 10, Gap, open);
    }

    [Fact]
    public void A_lost_data_page_of_a_committed_transaction_drops_it_alone()
    {
        // Transaction 1: ordinals 0, (1 lost at 12), 2 commit; transaction 2 after it is whole.
        var a = Account([Page(11, 1, 0), Page(13, 1, 2, commit: true, kind: PageKind.Meta), Page(14, 2, 0), Page(15, 2, 1, commit: true, kind: PageKind.Meta)]);
        Assert.Equal(ulong.MaxValue, a.Cutoff);
        Assert.Equal([1u], a.Incomplete);
    }

    [Fact]
    public void A_lost_metadata_page_keeps_the_cutoff()
    {
        var a = Account([Page(11, 1, 0), Page(13, 1, 2, commit: true, kind: PageKind.Meta, afterMeta: true), Page(14, 2, 0, commit: true)]);
        Assert.Equal(12UL, a.Cutoff);
        Assert.Empty(a.Incomplete);
    }

    [Fact]
    public void A_lost_commit_page_keeps_the_cutoff()
    {
        // Transaction 1 looks uncommitted: its lost page is accounted for by nobody.
        var a = Account([Page(11, 1, 0), Page(12, 1, 1), Page(14, 2, 0, commit: true)]);
        Assert.Equal(13UL, a.Cutoff);
    }

    [Fact]
    public void Two_consecutive_lost_pages_of_a_transaction_keep_the_cutoff()
        => Assert.Equal(12UL, Account([Page(11, 1, 0), Page(14, 1, 3, commit: true, kind: PageKind.Meta)]).Cutoff);

    [Fact]
    public void More_missing_numbers_than_lost_pages_keep_the_cutoff()
    {
        // Transaction 1 lost one page, but two numbers are missing: the other could have been anything.
        var a = Account([Page(11, 1, 0), Page(13, 1, 2, commit: true, kind: PageKind.Meta), Page(15, 2, 0, commit: true)]);
        Assert.Equal(12UL, a.Cutoff);
    }

    [Fact]
    public void Lost_garbage_collection_copies_between_two_readable_ones_are_accounted_for()
    {
        var a = Account([Page(11, 0, 5), Page(13, 0, 7), Page(14, 1, 0, commit: true)]);
        Assert.Equal(ulong.MaxValue, a.Cutoff);
        Assert.Equal([(11UL, 13UL, 1)], a.LostCopies);
        Assert.Empty(a.Incomplete);
    }

    [Fact]
    public void A_transaction_open_at_the_checkpoint_is_not_accounted_for()
    {
        // Its pages before the checkpoint could be the lost ones, which leave no gap.
        var a = Account([Page(11, 1, 3), Page(13, 1, 5, commit: true, kind: PageKind.Meta)], open: 1);
        Assert.Equal(12UL, a.Cutoff);
    }

    [Fact]
    public void Tags_older_than_version_4_keep_the_cutoff()
        => Assert.Equal(12UL, Account([Page(11, 1, 0, v4: false), Page(13, 1, 2, commit: true, kind: PageKind.Meta)]).Cutoff);

    [Fact]
    public void No_missing_number_drops_nothing()
    {
        var a = Account([Page(11, 1, 0), Page(12, 1, 1, commit: true)]);
        Assert.Equal(ulong.MaxValue, a.Cutoff);
        Assert.Empty(a.Incomplete);
    }

    [Fact]
    public void Missing_count_skips_the_gap_a_recovery_left()
        => Assert.Equal(2, ReplayCutoff.MissingCount([11, 13, 15, 20 + Gap, 21 + Gap], 10, Gap));
}

using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;
using Flash.Tests.Ffs.Log;

namespace Flash.Tests.Ffs.Transactions;

/// <summary>
/// The transactions on their own over the log: ids, superseded pages pinned until the commit, the transaction's own
/// pages released at once, the metadata batch and its commit page, and what they report upwards.
/// </summary>
public sealed class TransactionTableTests
{
    private const int Ppb = LogRig.PagesPerBlock;

    [Fact]
    public void Transactions_get_increasing_ids_are_open_until_they_end_and_are_reused_once_ended()
    {
        var rig = new LogRig();
        rig.Ids.NextTxn = 7;
        var a = rig.Txns.Begin();
        var b = rig.Txns.BeginFile(rig.File, created: false);

        Assert.Equal((7u, 8u), (a.Id, b.Id));
        Assert.Same(rig.File, b.Node);
        Assert.Equal(2, rig.Txns.Open.Count);

        Assert.True(rig.Txns.End(a));
        Assert.False(rig.Txns.End(a));
        Assert.Equal([7u], rig.Ended);
        var c = rig.Txns.Begin();
        Assert.Same(a, c);
        Assert.Equal(9u, c.Id);
        Assert.Empty(c.Released);
    }

    [Fact]
    public void Superseded_pages_stay_live_and_pinned_until_the_commit()
    {
        var rig = new LogRig();
        int p0 = rig.WriteChunk(0, 1);
        int p1 = rig.WriteChunk(1, 1);
        var txn = rig.Txns.BeginFile(rig.File, created: false);

        rig.Txns.ReleaseDataPage(txn, p0, 0);
        rig.Txns.ReleaseDataPage(txn, p1, 1);

        Assert.Equal(2, rig.Table.Pinned[p0 / Ppb]);
        Assert.True(rig.Table.IsValid(p0));
        Assert.True(rig.Table.IsValid(p1));
        Assert.Equal([new Superseded(p0, false, 0, 0), new Superseded(p1, false, 1, 0)], txn.Released);

        rig.Txns.Meta.AddInode(txn, rig.File);
        rig.Txns.CommitMeta(txn);

        Assert.Equal(0, rig.Table.Pinned[p0 / Ppb]);
        Assert.False(rig.Table.IsValid(p0));
        Assert.False(rig.Table.IsValid(p1));
        Assert.Empty(rig.Txns.Open);
        Assert.Equal(1, rig.Commits);
    }

    [Fact]
    public void A_transaction_that_never_commits_keeps_its_superseded_pages_pinned()
    {
        var rig = new LogRig();
        int old = rig.WriteChunk(0, 1);
        var txn = rig.Txns.BeginFile(rig.File, created: false);
        rig.Txns.SupersedeData(txn, rig.File);

        // Its volume faults: the transaction is forgotten, and what it superseded stays as the committed state.
        rig.Txns.Forget(txn);

        Assert.Equal(1, rig.Table.Pinned[old / Ppb]);
        Assert.True(rig.Table.IsValid(old));
        Assert.Equal(-1, rig.File.Chunks?.Get(0) ?? -1);
        Assert.Equal(0, rig.Commits);
    }

    [Fact]
    public void A_page_the_transaction_wrote_itself_is_garbage_as_soon_as_it_is_replaced()
    {
        var rig = new LogRig();
        var txn = rig.Txns.BeginFile(rig.File, created: true);
        int mine = rig.WriteChunk(0, 1, txn);
        txn.Own.Add(mine);

        rig.Txns.ReleaseDataPage(txn, mine, 0);

        Assert.False(rig.Table.IsValid(mine));
        Assert.Equal(0, rig.Table.Pinned[mine / Ppb]);
        Assert.Empty(txn.Released);
    }

    [Fact]
    public void Metadata_records_are_batched_into_one_page_whose_commit_flag_ends_the_transaction()
    {
        var rig = new LogRig();
        var txn = rig.Txns.Begin();
        uint id = txn.Id;
        rig.Txns.Meta.AddInode(txn, rig.Root);
        rig.Txns.Meta.AddInode(txn, rig.File);
        rig.Txns.Meta.AddDelete(txn, 99);
        Assert.True(rig.Txns.Meta.Used > 0);
        Assert.Equal(0ul, rig.Log.Sequence);

        rig.Txns.CommitMeta(txn);

        Assert.Equal(1ul, rig.Log.Sequence);
        Assert.Equal(0, rig.Txns.Meta.Used);
        int page = rig.Log.Hot.Block * Ppb;
        var (data, tag) = rig.Read(page);
        Assert.Equal((PageKind.Meta, PageFlags.Commit, id), (tag.Kind, tag.Flags, tag.TxnId));
        var ids = new List<uint>();
        for (int offset = 0; MetaRecord.TryRead(data.AsSpan(0, tag.ByteCount), offset, out var rec, out int length); offset += length)
        {
            ids.Add(rec.Id);
        }

        Assert.Equal([rig.Root.Id, rig.File.Id, 99u], ids);
    }

    [Fact]
    public void Inline_data_belongs_to_the_entry_only_once_its_page_is_programmed_and_a_later_record_supersedes_it()
    {
        var rig = new LogRig();
        var txn = rig.Txns.Begin();
        rig.Index.SetSize(rig.File, 3);
        rig.Txns.Meta.AddInode(txn, rig.File, [1, 2, 3], hasInline: true);
        Assert.False(rig.File.IsInline);

        rig.Txns.Meta.Flush(txn, commit: false);
        Assert.True(rig.File.IsInline);
        int first = rig.File.InlinePage;

        // A delete of the entry before the next flush drops the pending inline target.
        rig.Txns.Meta.AddInode(txn, rig.File, [4, 5, 6], hasInline: true);
        rig.Txns.Meta.AddDelete(txn, rig.File.Id);
        rig.Txns.CommitMeta(txn);
        Assert.Equal(first, rig.File.InlinePage);
    }

    [Fact]
    public void An_empty_transaction_is_abandoned_with_its_unwritten_records()
    {
        var rig = new LogRig();
        var txn = rig.Txns.Begin();
        rig.Txns.Meta.AddInode(txn, rig.File);

        rig.Txns.AbandonEmpty(txn);

        Assert.Equal(0, rig.Txns.Meta.Used);
        Assert.Empty(rig.Txns.Open);
        Assert.Equal(0ul, rig.Log.Sequence);
        Assert.Equal(0, rig.Commits);
    }
}

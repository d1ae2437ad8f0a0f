using Flash.Ffs.Format;
using Flash.Ffs.Log;

namespace Flash.Tests.Ffs.Log;

/// <summary>
/// Relocation moves a live page to the cold head and repoints what refers to it: a file's chunk map, an open
/// transaction's superseded reference (and its pin), an entry's inline data; an unreadable page is recorded as lost.
/// </summary>
public sealed class PageRelocatorTests
{
    private const int Ppb = LogRig.PagesPerBlock;

    [Fact]
    public void A_mapped_data_page_moves_to_the_cold_head_and_the_chunk_map_points_at_the_copy()
    {
        var rig = new LogRig();
        int page = rig.WriteChunk(5, 0x5A);

        rig.Relocator.Relocate(page);

        int copy = rig.File.Chunks!.Get(5);
        Assert.Equal(rig.Log.Cold.Block, copy / Ppb);
        var (data, tag) = rig.Read(copy);
        Assert.Equal(0x5A, data[0]);
        Assert.Equal(PageFlags.Relocated, tag.Flags);
        Assert.Equal((rig.File.Id, 5u), (tag.ObjectId, tag.Chunk));
        Assert.True(rig.Table.IsValid(copy));
        Assert.False(rig.Table.IsValid(page));
        Assert.Equal(1, rig.Relocator.PagesMoved);
    }

    [Fact]
    public void A_page_an_open_transaction_superseded_moves_with_its_pin_and_stays_the_transactions()
    {
        var rig = new LogRig();
        int old = rig.WriteChunk(0, 0x11);
        var txn = rig.Txns.Begin();
        rig.Txns.SupersedeData(txn, rig.File);
        Assert.Equal(1, rig.Table.Pinned[old / Ppb]);

        rig.Relocator.Relocate(old);

        int copy = Assert.Single(txn.Released).Page;
        Assert.NotEqual(old, copy);
        Assert.Equal(0, rig.Table.Pinned[old / Ppb]);
        Assert.Equal(1, rig.Table.Pinned[copy / Ppb]);
        Assert.True(rig.Table.IsValid(copy));
        Assert.False(rig.Table.IsValid(old));
        Assert.Equal(0x11, rig.Read(copy).Data[0]);

        rig.Txns.Committed(txn);
        Assert.Equal(0, rig.Table.Pinned[copy / Ppb]);
        Assert.False(rig.Table.IsValid(copy));
    }

    [Fact]
    public void A_page_of_an_open_transaction_keeps_its_id_and_its_place_among_the_transactions_own_pages()
    {
        var rig = new LogRig();
        var txn = rig.Txns.Begin();
        int page = rig.WriteChunk(0, 0x22, txn);
        txn.Own.Add(page);

        rig.Relocator.Relocate(page);

        int copy = rig.File.Chunks!.Get(0);
        Assert.Equal(txn.Id, rig.Read(copy).Tag.TxnId);
        Assert.Equal(1, txn.Own.Count);
        Assert.True(txn.Own.Contains(copy));
        Assert.False(txn.Own.Contains(page));
        Assert.Contains(copy / Ppb, txn.Blocks);
    }

    [Fact]
    public void Inline_data_moves_as_an_inline_move_record_and_the_entry_points_at_it()
    {
        var rig = new LogRig();
        var small = new Flash.Ffs.Index.Node(3, 1, "s", isDirectory: false);
        rig.Index.Create(rig.Root, small);
        rig.Index.SetSize(small, 4);
        var txn = rig.Txns.Begin();
        rig.Txns.Meta.AddInode(txn, small, [1, 2, 3, 4], hasInline: true);
        rig.Txns.CommitMeta(txn);
        int page = small.InlinePage;
        Assert.True(rig.Table.IsValid(page));

        rig.Relocator.Relocate(page);

        Assert.NotEqual(page, small.InlinePage);
        Assert.Equal(rig.Log.Cold.Block, small.InlinePage / Ppb);
        Assert.Equal(MetaRecord.InlineMoveFixedSize, small.InlineOffset);
        var (data, tag) = rig.Read(small.InlinePage);
        Assert.Equal(PageFlags.Relocated | PageFlags.Commit, tag.Flags);
        Assert.True(MetaRecord.HoldsInline(data.AsSpan(0, tag.ByteCount), small.Id, small.InlineOffset, small.Size));
        Assert.False(rig.Table.IsValid(page));
    }

    [Fact]
    public void An_unreadable_page_is_recorded_as_lost_and_unmapped()
    {
        var rig = new LogRig();
        int page = rig.WriteChunk(7, 0x33);
        rig.Device.InjectBitFlips(page, 12, sector: 0);

        rig.Relocator.Relocate(page);

        Assert.Equal(-1, rig.File.Chunks!.Get(7));
        Assert.True(rig.Lost.Contains(rig.File.Id, 7u));

        // No longer live, so garbage collection does not pick it again (it used to stay valid, and a victim holding
        // it could never be emptied).
        Assert.False(rig.Table.IsValid(page));
        Assert.Equal(0, rig.Table.Valid[page / Ppb]);
    }
}

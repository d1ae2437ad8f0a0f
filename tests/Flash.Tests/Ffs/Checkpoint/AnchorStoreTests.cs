using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Checkpoint;
using Xunit;

namespace Flash.Tests.Ffs.Checkpoint;

/// <summary>
/// The anchor store on its own: the search finds the newest intact anchor page and skips a torn or unreadable one,
/// a write advances the pointer and moves to the other anchor block when one is full, and what a write records is
/// what parsing reads back.
/// </summary>
public sealed class AnchorStoreTests
{
    private const int Ppb = CheckpointHarness.PagesPerBlock;

    /// <summary>Writes an anchor for a made-up checkpoint at <paramref name="checkpointSeq"/> (two pages of block 5), taking the next sequence number.</summary>
    private static void WriteAnchor(CheckpointHarness h, AnchorStore store, ulong checkpointSeq)
    {
        store.Write(checkpointSeq, [5 * Ppb, (5 * Ppb) + 1], 3000 + (int)checkpointSeq, (uint)checkpointSeq * 31, h.Sequence + 1);
        h.Sequence++;
    }

    [Fact]
    public void The_search_finds_the_newest_anchor_and_parsing_reads_back_what_was_written()
    {
        var h = new CheckpointHarness();
        var store = h.NewAnchorStore();
        WriteAnchor(h, store, 10);
        WriteAnchor(h, store, 20);
        WriteAnchor(h, store, 30);

        var mounted = new AnchorStore(h.Device, h.Io, h.Pool, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var found = mounted.FindNewest();
        Assert.Equal(0, found.Block);
        Assert.Equal(2, found.Page);
        Assert.Equal(3, found.NextFree);
        Assert.Equal(h.Sequence, found.Sequence);

        mounted.Parse(found.Payload, out var pages, out int length, out uint crc);
        Assert.Equal([5 * Ppb, (5 * Ppb) + 1], pages);
        Assert.Equal(3030, length);
        Assert.Equal(30u * 31, crc);
        Assert.Equal(0xF1A5u, mounted.VolumeId);
        Assert.Equal("harness", mounted.Label);
        Assert.Equal([0, 1], mounted.Blocks);

        // Mount continues after it: the next write goes to page 3 of block 0.
        mounted.ContinueAfter(found);
        WriteAnchor(h, mounted, 40);
        Assert.Equal(3, mounted.FindNewest().Page);
    }

    [Fact]
    public void A_write_advances_the_pointer_and_moves_to_the_other_block_when_this_one_is_full()
    {
        var h = new CheckpointHarness();
        var store = h.NewAnchorStore();
        for (int i = 1; i <= Ppb; i++)
        {
            WriteAnchor(h, store, (ulong)i * 10);
            Assert.Equal((0, i), (store.Current, store.WritePointer));
        }

        WriteAnchor(h, store, 1000);
        Assert.Equal((1, 1), (store.Current, store.WritePointer));

        var found = h.NewAnchorStore().FindNewest();
        Assert.Equal((1, Ppb, 1), (found.Block, found.Page, found.NextFree));
        Assert.Equal(h.Sequence, found.Sequence);

        // Block 0 keeps its pages until the store comes back to it: it is erased only when block 1 is full.
        for (int i = 0; i < Ppb; i++)
        {
            WriteAnchor(h, store, 2000 + (ulong)i);
        }

        Assert.Equal((0, 1), (store.Current, store.WritePointer));
        Assert.Equal(0, h.NewAnchorStore().FindNewest().Block);
    }

    [Fact]
    public void The_other_block_erased_ahead_is_not_erased_again_at_the_switch_and_mount_still_finds_the_newest()
    {
        var h = new CheckpointHarness();
        var store = h.NewAnchorStore();
        for (int i = 1; i <= Ppb - 2; i++)
        {
            WriteAnchor(h, store, (ulong)i * 10);
        }

        // Block 1 (the other) was erased at format or never written: erasing it ahead is allowed at any time.
        Assert.Equal(2, store.PagesLeft);
        Assert.True(store.EraseStandbyAhead());
        Assert.False(store.EraseStandbyAhead());
        Assert.Equal((0, Ppb - 2), (h.NewAnchorStore().FindNewest().Block, h.NewAnchorStore().FindNewest().NextFree));

        WriteAnchor(h, store, 1000);
        WriteAnchor(h, store, 1010);
        Assert.Equal(0, store.PagesLeft);
        long erases = h.Device.Statistics.BlockErases;
        WriteAnchor(h, store, 1020);
        Assert.Equal(erases, h.Device.Statistics.BlockErases);
        Assert.Equal((1, 1), (store.Current, store.WritePointer));
        var found = h.NewAnchorStore().FindNewest();
        Assert.Equal((1, Ppb, h.Sequence), (found.Block, found.Page, found.Sequence));

        // Coming back to block 0 erases it at the switch as before (nothing erased it ahead this time).
        for (int i = 0; i < Ppb; i++)
        {
            WriteAnchor(h, store, 2000 + (ulong)i);
        }

        Assert.Equal(erases + 1, h.Device.Statistics.BlockErases);
        Assert.Equal(0, h.NewAnchorStore().FindNewest().Block);
    }

    [Fact]
    public void The_search_skips_an_anchor_page_that_is_unreadable()
    {
        var h = new CheckpointHarness();
        var store = h.NewAnchorStore();
        WriteAnchor(h, store, 10);
        WriteAnchor(h, store, 20);
        ulong second = h.Sequence;
        WriteAnchor(h, store, 30);

        // More flipped bits than the ECC corrects: the page's CRC check fails.
        h.Device.InjectBitFlips(2, 40, sector: 0);
        var found = h.NewAnchorStore().FindNewest();
        Assert.Equal((1, second), (found.Page, found.Sequence));
    }

    [Fact]
    public void The_search_skips_an_anchor_page_torn_by_a_power_cut()
    {
        var h = new CheckpointHarness();
        var store = h.NewAnchorStore();
        WriteAnchor(h, store, 10);
        ulong first = h.Sequence;

        h.Device.CutPowerAfter(1);
        Assert.Throws<PowerLossException>(() => store.Write(20, [5 * Ppb], 100, 1, h.Sequence + 1));
        h.Device.PowerUp();

        var found = h.NewAnchorStore().FindNewest();
        Assert.Equal((0, first), (found.Page, found.Sequence));
    }

    [Fact]
    public void Without_an_anchor_page_the_search_reports_no_volume()
    {
        var h = new CheckpointHarness();
        Assert.Throws<FileSystemCorruptException>(() => h.NewAnchorStore().FindNewest());
    }

    [Fact]
    public void Writes_refused_when_the_anchor_was_found_outside_the_blocks_it_names()
    {
        var h = new CheckpointHarness();
        var store = h.NewAnchorStore();
        store.RefuseWritesIfMoved(foundIn: 1, readOnly: false);
        Assert.Throws<FileSystemCorruptException>(() => store.RefuseWritesIfMoved(foundIn: 7, readOnly: false));
        store.RefuseWritesIfMoved(foundIn: 7, readOnly: true);
    }
}

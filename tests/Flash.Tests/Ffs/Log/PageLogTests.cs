using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;

namespace Flash.Tests.Ffs.Log;

/// <summary>
/// The log on its own over a simulated device: sequence numbers, a head filling its block in order and opening the
/// next, a program failure retiring the block and writing the page elsewhere, and what garbage collection asks of it.
/// </summary>
public sealed class PageLogTests
{
    private const int Ppb = LogRig.PagesPerBlock;

    [Fact]
    public void Sequence_numbers_strictly_increase_and_each_is_used_by_one_page()
    {
        var rig = new LogRig();
        var pages = new List<int>();
        for (uint c = 0; c < (3 * Ppb) + 2; c++)
        {
            pages.Add(rig.WriteChunk(c, (byte)c));
            if (c % 3 == 0)
            {
                // Interleave the cold head: one counter for both streams.
                pages.Add(rig.Log.Append(rig.Log.Cold, PageKind.Data, PageFlags.Relocated, rig.File.Id, 1000 + c, null, new byte[16]));
            }
        }

        var sequences = pages.Select(p => rig.Read(p).Tag.Sequence).ToList();
        Assert.Equal(Enumerable.Range(1, pages.Count).Select(i => (ulong)i), sequences);
        Assert.Equal((ulong)pages.Count, rig.Log.Sequence);
        Assert.Equal(pages.Count, pages.Distinct().Count());
    }

    [Fact]
    public void A_head_fills_its_block_in_order_closes_it_and_opens_the_next()
    {
        var rig = new LogRig();
        var pages = Enumerable.Range(0, Ppb + 1).Select(c => rig.WriteChunk((uint)c, 1)).ToList();

        int first = pages[0] / Ppb;
        Assert.Equal(Enumerable.Range(first * Ppb, Ppb), pages.Take(Ppb));
        Assert.Equal(BlockState.Full, rig.Table.State[first]);
        Assert.Equal(Ppb, rig.Table.Written[first]);
        Assert.Equal((ulong)Ppb, rig.Table.LastSequence[first]);

        int second = pages[Ppb] / Ppb;
        Assert.NotEqual(first, second);
        Assert.Equal(second * Ppb, pages[Ppb]);
        Assert.Equal(BlockState.Open, rig.Table.State[second]);
        Assert.Equal(second, rig.Log.Hot.Block);
        Assert.Equal(1, rig.Log.Hot.WritePointer);
        Assert.Equal(2, rig.HotOpens);
        Assert.Equal(1, rig.Closes);
    }

    [Fact]
    public void A_program_failure_retires_the_block_moves_its_live_pages_and_writes_the_page_elsewhere_with_the_same_number()
    {
        var rig = new LogRig();
        int live = rig.WriteChunk(0, 0xA1);
        int garbage = rig.WriteChunk(1, 0xA2);
        rig.Table.ClearValid(garbage);
        int block = live / Ppb;
        rig.Device.ScheduleProgramFailure(garbage + 1);

        int page = rig.WriteChunk(2, 0xA3);

        Assert.NotEqual(block, page / Ppb);
        Assert.Equal(BlockState.Retiring, rig.Table.State[block]);
        Assert.Equal(1, rig.LeftService);
        Assert.Equal([live], rig.Moved);

        // The failed program used no number: the moved copy took 3, the rewritten page 4.
        int copy = rig.File.Chunks!.Get(0);
        Assert.NotEqual(live, copy);
        Assert.Equal(0xA1, rig.Read(copy).Data[0]);
        Assert.Equal(3ul, rig.Read(copy).Tag.Sequence);
        Assert.Equal(4ul, rig.Read(page).Tag.Sequence);
        Assert.Equal(0xA3, rig.Read(page).Data[0]);
        Assert.Equal(4ul, rig.Log.Sequence);
        Assert.False(rig.Table.IsValid(live));
        Assert.True(rig.Table.IsValid(copy));
    }

    [Fact]
    public void A_page_of_a_transaction_notes_its_block_there()
    {
        var rig = new LogRig();
        var txn = rig.Txns.Begin();
        var pages = Enumerable.Range(0, Ppb + 1).Select(c => rig.WriteChunk((uint)c, 2, txn)).ToList();

        Assert.Equal([pages[0] / Ppb, pages[Ppb] / Ppb], txn.Blocks);
        Assert.All(pages, p => Assert.Equal(txn.Id, rig.Read(p).Tag.TxnId));
    }

    [Fact]
    public void Garbage_collection_sees_the_cold_head_and_can_close_the_head_writing_a_block()
    {
        var rig = new LogRig();
        IGcLog gc = rig.Log;
        Assert.True(gc.ColdHeadFull);
        int page = rig.Log.Append(rig.Log.Cold, PageKind.Data, PageFlags.Relocated, rig.File.Id, 0, null, new byte[8]);
        Assert.False(gc.ColdHeadFull);

        rig.CheckpointSequence = 42;
        Assert.Equal(42ul, gc.CheckpointSequence);
        Assert.Equal(rig.Log.Sequence, gc.Sequence);

        gc.CloseHeadsIn(page / Ppb);
        Assert.Equal(-1, rig.Log.Cold.Block);
        Assert.True(gc.ColdHeadFull);
        Assert.Equal(BlockState.Full, rig.Table.State[page / Ppb]);
        Assert.Equal(1, rig.Closes);
    }
}

using Flash.Ffs.Blocks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Ffs.Blocks;

/// <summary>
/// What a block that mount did not erase itself must show before its first page is programmed: the first page, the
/// second and the last erased. The damaged-image fuzz found a block written after the checkpoint whose first page was
/// damaged to read erased (so mount took the volume as clean and the block as free): a head opened it and programmed
/// over the pages after the first.
/// </summary>
public sealed class EraseCheckTests
{
    [Theory]
    [InlineData(new int[0], true)]
    [InlineData(new[] { 1 }, false)] // the first page damaged to read erased, the second still programmed
    [InlineData(new[] { 15 }, false)] // a block swapped in or written back
    [InlineData(new[] { 7 }, true)] // not seen at the first page (the rest is checked as pages are programmed in order)
    public void A_block_opened_at_its_first_page_has_its_first_second_and_last_pages_erased(int[] programmed, bool erased)
    {
        using var dev = FfsTestDevice.Create();
        int ppb = dev.Geometry.PagesPerBlock, block = 5;
        foreach (int p in programmed)
        {
            dev.Program((block * ppb) + p, new byte[dev.Geometry.PageSize], new byte[dev.Geometry.SpareSize]);
        }

        var check = new EraseCheck(dev, NullLogger.Instance);
        Assert.Equal(erased, check.Verify(block, block * ppb, inherited: false));
    }
}

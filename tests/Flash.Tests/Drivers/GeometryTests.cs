using Flash.Drivers;

namespace Flash.Tests.Drivers;

public class GeometryTests
{
    [Fact]
    public void The_reference_geometry_is_128_MiB_of_2048_byte_pages()
    {
        var g = FlashGeometry.Nand128MiB;
        Assert.Equal(2048, g.PageSize);
        Assert.Equal(64, g.SpareSize);
        Assert.Equal(64, g.PagesPerBlock);
        Assert.Equal(1024, g.BlockCount);
        Assert.Equal(128L * 1024 * 1024, g.TotalBytes);
        Assert.Equal(128 * 1024, g.BlockSize);
        Assert.Equal(65536, g.PageCount);
        Assert.Equal(FlashKind.Nand, g.Kind);
        Assert.Equal(1, g.PartialPrograms);
        Assert.True(g.SequentialPrograms);
        Assert.Equal(2, g.SpareFreeOffset);
        Assert.Equal(38, g.SpareFreeLength);
        Assert.Equal(0xFF, g.ErasedValue);
        Assert.Equal(2, g.BlockOf(130));
        Assert.Equal(128, g.FirstPageOf(2));
        Assert.Equal("Nand 1024 x 64 x (2048+64) B", g.ToString());
    }

    [Fact]
    public void NOR_has_no_spare_and_no_order_rule()
    {
        var g = FlashGeometry.Nor(256, 16, 64);
        Assert.Equal(FlashKind.Nor, g.Kind);
        Assert.Equal(0, g.SpareSize);
        Assert.Equal(0, g.SpareFreeLength);
        Assert.Equal(8, g.PartialPrograms);
        Assert.False(g.SequentialPrograms);
    }

    [Theory]
    [InlineData(100, 0, 1, 1)]
    [InlineData(32, 0, 1, 1)]
    [InlineData(2048, 257, 64, 1)]
    [InlineData(2048, -1, 64, 1)]
    [InlineData(2048, 64, 0, 1)]
    [InlineData(2048, 64, 64, 0)]
    public void Impossible_geometries_are_refused(int pageSize, int spareSize, int pagesPerBlock, int blockCount)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new FlashGeometry(pageSize, spareSize, pagesPerBlock, blockCount));

    [Fact]
    public void The_free_spare_range_must_fit()
        => Assert.Throws<ArgumentOutOfRangeException>(() => new FlashGeometry(512, 16, 32, 8));

    [Fact]
    public void WithBlockCount_keeps_everything_else()
    {
        var g = FlashGeometry.Nand4KPage128MiB.WithBlockCount(10);
        Assert.Equal(FlashGeometry.Nand4KPage128MiB with { }, FlashGeometry.Nand4KPage128MiB);
        Assert.Equal(10, g.BlockCount);
        Assert.Equal(4096, g.PageSize);
        Assert.Equal(78, g.SpareFreeLength);
    }
}

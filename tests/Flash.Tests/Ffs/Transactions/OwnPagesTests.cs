using Flash.Ffs.Transactions;

namespace Flash.Tests.Ffs.Transactions;

/// <summary>
/// The set of pages an open transaction wrote itself (a bit a page over the blocks it wrote to) against a
/// <see cref="HashSet{T}"/> model, and that a sequential write of many blocks does not allocate per page.
/// </summary>
public sealed class OwnPagesTests
{
    [Theory]
    [InlineData(64, 1)]
    [InlineData(64, 2)]
    [InlineData(128, 3)]
    [InlineData(32, 4)]
    [InlineData(256, 5)]
    public void Random_adds_and_removes_agree_with_a_set(int ppb, int seed)
    {
        var own = new OwnPages(ppb);
        var model = new HashSet<int>();
        var rng = new Random(seed);

        // Few blocks (the slot scan) and then many (the dictionary after 16 blocks), adds mostly in order.
        int page = 0;
        for (int i = 0; i < 20_000; i++)
        {
            int op = rng.Next(10);
            if (op < 5)
            {
                page = rng.Next(4) == 0 ? rng.Next(ppb * 40) : page + 1;
                Assert.Equal(model.Add(page), own.Add(page));
            }
            else if (op < 8)
            {
                int p = rng.Next(ppb * 40);
                Assert.Equal(model.Remove(p), own.Remove(p));
            }
            else
            {
                int p = rng.Next(ppb * 40);
                Assert.Equal(model.Contains(p), own.Contains(p));
            }

            Assert.Equal(model.Count, own.Count);
            if (i == 10_000)
            {
                own.Clear();
                model.Clear();
                Assert.False(own.Contains(page));
            }
        }

        foreach (int p in model)
        {
            Assert.True(own.Contains(p));
        }
    }

    [Fact]
    public void A_sequential_write_allocates_once_per_doubling_of_its_blocks_not_per_page()
    {
        const int ppb = 64;
        var own = new OwnPages(ppb);
        for (int p = 0; p < ppb * 16; p++)
        {
            own.Add(p);
        }

        own.Clear();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int p = 0; p < ppb * 16; p++)
        {
            own.Add(p);
            Assert.True(own.Contains(p));
        }

        for (int p = 0; p < ppb * 16; p += 3)
        {
            own.Remove(p);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(16, own.BlockCapacity);
    }

    [Fact]
    public void Pages_of_blocks_never_written_are_absent_and_removing_them_changes_nothing()
    {
        var own = new OwnPages(64);
        Assert.False(own.Contains(5));
        Assert.False(own.Remove(5));
        Assert.True(own.Add(130));
        Assert.False(own.Add(130));
        Assert.False(own.Contains(131));
        Assert.False(own.Contains(66));
        Assert.Equal(1, own.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new OwnPages(0));
    }
}

using Flash.Ffs.Blocks;

namespace Flash.Tests.Ffs.Blocks;

/// <summary><see cref="WritePoolPolicy"/>: how large the write pool is and in which order it lists blocks.</summary>
public class WritePoolPolicyTests
{
    [Theory]
    [InlineData(16, 1, 37)]
    [InlineData(16, 3, 39)]
    [InlineData(2, 1, 9)]
    [InlineData(0, 0, 7)]
    public void The_target_covers_two_intervals_the_checkpoint_and_spares(int interval, int checkpointBlocks, int target)
        => Assert.Equal(target, WritePoolPolicy.Target(interval, checkpointBlocks));

    [Fact]
    public void Kept_blocks_come_first_then_reservations_then_both_orders_in_turn_each_block_once()
    {
        var pool = Compose(keep: [40, 41], reserved: [7, -1, 41], leastWorn: [1, 2, 3, 4, 7], mostWorn: [9, 8, 1, 2], target: 9, room: 100);
        Assert.Equal([40, 41, 7, 1, 9, 2, 8, 3], pool![..8]);
        Assert.Equal(9, pool.Length);
        Assert.Equal(pool.Length, pool.Distinct().Count());
    }

    [Fact]
    public void It_stops_at_the_room_and_when_the_free_blocks_run_out()
    {
        Assert.Equal([1, 9, 2], Compose([], [], [1, 2, 3], [9, 8], target: 50, room: 3)!);
        Assert.Equal([1, 9, 2, 8, 3], Compose([], [], [1, 2, 3], [9, 8], target: 50, room: 100)!);
    }

    [Fact]
    public void A_pool_whose_kept_blocks_do_not_fit_is_none()
        => Assert.Null(Compose([1, 2, 3], [4], [5], [6], target: 10, room: 3));

    [Fact]
    public void Kept_blocks_beyond_the_target_still_get_spares()
    {
        var pool = Compose([.. Enumerable.Range(100, 10)], [], [1, 2, 3, 4, 5, 6], [], target: 5, room: 100);
        Assert.Equal(10 + WritePoolPolicy.SpareBlocks, pool!.Length);
    }

    [Fact]
    public void Keep_and_keep_too_are_one_list_in_order_and_the_scratch_is_left_clear()
    {
        bool[] seen = new bool[64];
        int[] chosen = new int[64];
        int n = WritePoolPolicy.Compose<List<int>.Enumerator, List<int>.Enumerator>([5, 6], [6, 7], [8], new List<int> { 1, 5 }.GetEnumerator(), new List<int> { 9 }.GetEnumerator(), 7, 64, seen, chosen);
        Assert.Equal([5, 6, 7, 8, 1, 9], chosen[..n]);
        Assert.DoesNotContain(true, seen);
        Assert.Equal(-1, WritePoolPolicy.Compose<List<int>.Enumerator, List<int>.Enumerator>([1, 2], [3], [], new List<int>().GetEnumerator(), new List<int>().GetEnumerator(), 7, 2, seen, chosen));
        Assert.DoesNotContain(true, seen);
        Assert.Equal(-1, WritePoolPolicy.Compose<List<int>.Enumerator, List<int>.Enumerator>([], [], [], new List<int>().GetEnumerator(), new List<int>().GetEnumerator(), 7, -1, seen, chosen));
    }

    [Fact]
    public void A_reserved_block_that_is_not_free_yet_is_listed_before_free_blocks_and_the_pool_keeps_its_size()
    {
        // BlockPool passes garbage collection's victim (full, free within the interval) among the reserved blocks.
        var pool = Compose(keep: [40], reserved: [-1, 7, -1, 8, 55], leastWorn: [1, 2, 3], mostWorn: [9, 55], target: 8, room: 100);
        Assert.Equal([40, 7, 8, 55, 1, 9, 2, 3], pool!);
    }

    [Theory]
    [InlineData(10u, 10u, true)]
    [InlineData(9u, 10u, true)]
    [InlineData(12u, 10u, true)]
    [InlineData(8u, 10u, false)]
    [InlineData(3u, 11u, false)]
    public void The_cold_head_reserves_an_erased_block_only_when_it_is_about_as_worn_as_its_next_block(uint erased, uint next, bool reserves)
        => Assert.Equal(reserves, WritePoolPolicy.ColdReservationWornEnough(erased, next));

    [Fact]
    public void With_no_other_block_the_cold_head_reserves_any_erased_one()
        => Assert.True(WritePoolPolicy.ColdReservationWornEnough(0, null));

    /// <summary>The policy over arrays: the pool as an array, or null for none.</summary>
    private static int[]? Compose(int[] keep, int[] reserved, int[] leastWorn, int[] mostWorn, int target, int room)
    {
        bool[] seen = new bool[1000];
        int[] chosen = new int[Math.Max(0, room)];
        int n = WritePoolPolicy.Compose([.. keep], [], reserved, new List<int>(leastWorn).GetEnumerator(), new List<int>(mostWorn).GetEnumerator(), target, room, seen, chosen);
        Assert.DoesNotContain(true, seen);
        return n < 0 ? null : chosen[..n];
    }
}

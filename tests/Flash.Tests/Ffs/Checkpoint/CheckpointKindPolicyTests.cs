using Flash.Ffs.Checkpoint;

namespace Flash.Tests.Ffs.Checkpoint;

/// <summary>
/// The choice between a base and a delta (<see cref="CheckpointKindPolicy"/>): no base known means a base; deltas
/// while they and the next one stay below the base's size and the next one is at most half of it; and over a steady
/// change rate the bytes written stay within twice the best fixed period's (the ski-rental bound); and a delta only
/// while, once it commits, the free blocks still hold a base and its three reservations (the room rule).
/// </summary>
public sealed class CheckpointKindPolicyTests
{
    [Fact]
    public void Without_a_known_base_it_is_a_base()
        => Assert.False(CheckpointKindPolicy.WriteDelta(hasBase: false, baseBytes: 1_000_000, deltaBytesSinceBase: 0, nextDeltaBytes: 10));

    [Theory]
    [InlineData(1000, 0, 100, true)]
    [InlineData(1000, 0, 500, true)]
    [InlineData(1000, 0, 501, false)]
    [InlineData(1000, 800, 199, true)]
    [InlineData(1000, 800, 200, false)]
    [InlineData(1000, 999, 1, false)]
    [InlineData(1000, 0, 0, true)]
    public void Deltas_until_they_would_reach_the_base_or_the_next_exceeds_half_of_it(long baseBytes, long since, long next, bool delta)
        => Assert.Equal(delta, CheckpointKindPolicy.WriteDelta(hasBase: true, baseBytes, since, next));

    [Theory]
    [InlineData(100_000, 500)]
    [InlineData(100_000, 5_000)]
    [InlineData(4_000_000, 2_000)]
    [InlineData(4_000_000, 200_000)]
    public void Over_a_steady_change_rate_the_cost_stays_within_twice_the_best_period(long baseBytes, long changePerInterval)
    {
        // Cumulative deltas: the k-th delta after a base holds k intervals of change.
        long written = 0, since = 0, deltas = 0;
        const int Intervals = 2000;
        for (int i = 0; i < Intervals; i++)
        {
            long next = (deltas + 1) * changePerInterval;
            if (CheckpointKindPolicy.WriteDelta(hasBase: true, baseBytes, since, next))
            {
                written += next;
                since += next;
                deltas++;
            }
            else
            {
                written += baseBytes;
                since = 0;
                deltas = 0;
            }
        }

        // The best fixed period p (a base, then p - 1 deltas): (base + change * p * (p - 1) / 2) / p an interval.
        double best = double.MaxValue;
        for (int p = 1; p < 10_000; p++)
        {
            best = Math.Min(best, (baseBytes + (changePerInterval * (double)p * (p - 1) / 2)) / p);
        }

        Assert.True(written / (double)Intervals <= 2 * best, $"{written / (double)Intervals:F0} bytes an interval, best {best:F0}");
    }

    [Theory]
    [InlineData(4, 0, 1, true)]   // a base of 1 block needs it, its next checkpoint block and both heads' next blocks
    [InlineData(3, 0, 1, false)]  // the unmount-time delta of issue 19's full volume: a base after it would find no reservation
    [InlineData(3, 1, 1, true)]   // a delta over a delta releases the old one's block when it commits
    [InlineData(10, 0, 8, false)]
    [InlineData(11, 0, 8, true)]
    [InlineData(5, 6, 8, true)]
    [InlineData(0, 0, 0, false)]
    public void A_delta_leaves_the_base_after_it_its_body_and_three_reservations(int free, int released, int nextBase, bool delta)
        => Assert.Equal(delta, CheckpointKindPolicy.DeltaLeavesRoomForBase(free, released, nextBase));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(2048 * 64, 1)]
    [InlineData((2048 * 64) + 1, 2)]
    [InlineData(2048 * 65, 2)]
    public void A_body_fills_whole_blocks_of_whole_pages(long bytes, int blocks)
        => Assert.Equal(blocks, CheckpointKindPolicy.BodyBlocks(bytes, 2048, 64));

    [Theory]
    [InlineData(0, 0, true)] // a delta that holds no more blocks than a base is always affordable
    [InlineData(-1, 0, true)]
    [InlineData(1, 5, false)] // a full small volume: one more block held out of five spare
    [InlineData(1, 15, false)]
    [InlineData(1, 16, true)]
    [InlineData(2, 200, true)] // a large volume: a block or two is nothing
    [InlineData(20, 200, false)]
    public void A_delta_holds_at_most_a_sixteenth_of_the_spare_beyond_what_a_base_would(int extra, long spare, bool delta)
        => Assert.Equal(delta, CheckpointKindPolicy.DeltaHoldsLittleSpare(extra, spare));

    [Theory]
    [InlineData(16, 4, 64, 8)] // a small delta: half the interval
    [InlineData(16, 1, 64, 8)]
    [InlineData(16, 5, 64, 16)] // larger: the configured interval
    [InlineData(16, 0, 64, 16)] // no checkpoint yet (a fresh mount): the configured interval
    [InlineData(1, 1, 64, 1)] // never below one block
    [InlineData(16, 1, 16, 8)]
    [InlineData(16, 2, 16, 16)]
    public void Small_checkpoints_come_at_half_the_interval(int configured, int ownPages, int ppb, int blocks)
        => Assert.Equal(blocks, CheckpointIntervalPolicy.Blocks(configured, ownPages, ppb));
}

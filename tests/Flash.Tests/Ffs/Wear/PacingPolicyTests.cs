using Flash.Ffs.Wear;

namespace Flash.Tests.Ffs.Wear;

/// <summary>How much collection one foreground operation does (<see cref="PacingPolicy"/>): the caps that bound the worst operation.</summary>
public sealed class PacingPolicyTests
{
    private const int Ppb = 64;
    private const int Reserve = 20;

    private static PacingState State(int free, int valid, bool inProgress = false, bool starts = false, int f = 32, int pages = 3)
        => new(pages, free, Reserve + 4, Reserve, valid, 0, Ppb, f, inProgress, starts);

    [Fact]
    public void Steady_state_keeps_up_with_the_victim_within_a_steady_slice()
    {
        // 3 pages at a victim of 32 live of 64: 3 * 32 / 32 = 3 moves, plus the one block under the mark.
        Assert.Equal(4, PacingPolicy.Quota(State(free: Reserve + 3, valid: 32)));

        // Far under the mark, never more than a steady slice.
        Assert.Equal(PacingPolicy.SteadyUnits, PacingPolicy.Quota(State(free: Reserve + 2, valid: 60, pages: 64)));
    }

    [Fact]
    public void A_nearly_empty_victim_is_finished_and_erased_in_one_operation_when_both_fit()
        => Assert.Equal(1 + PacingPolicy.EraseUnits, PacingPolicy.Quota(State(free: Reserve + 3, valid: 1)));

    [Fact]
    public void A_short_pool_takes_at_most_two_steady_slices_and_three_at_the_reserve_not_the_foreground_budget()
    {
        Assert.Equal(PacingPolicy.ShortUnits, PacingPolicy.Quota(State(free: Reserve + 1, valid: 40, pages: 64)));
        Assert.Equal(3 * PacingPolicy.SteadyUnits, PacingPolicy.Quota(State(free: Reserve, valid: 40, pages: 64)));

        // A small foreground budget stays the cap (at least an erase).
        Assert.Equal(8, PacingPolicy.Quota(State(free: Reserve + 1, valid: 40, f: 4, pages: 64)));
    }

    [Fact]
    public void A_checkpoint_in_progress_or_starting_leaves_one_move_and_a_short_pool_a_steady_slice()
    {
        Assert.Equal(1, PacingPolicy.Quota(State(free: Reserve + 3, valid: 40, inProgress: true)));
        Assert.Equal(1, PacingPolicy.Quota(State(free: Reserve + 3, valid: 40, starts: true)));
        Assert.Equal(PacingPolicy.SteadyUnits, PacingPolicy.Quota(State(free: Reserve, valid: 40, starts: true, pages: 64)));
    }

    [Fact]
    public void An_empty_victim_costs_its_erase()
        => Assert.Equal(PacingPolicy.EraseUnits, PacingPolicy.Quota(State(free: Reserve + 3, valid: 0)));

    [Theory]
    [InlineData(20, 0, 6)]
    [InlineData(20, 3, 9)]
    [InlineData(4, 2, 8)]
    [InlineData(2, 1, 5)]
    public void Paced_collection_starts_at_the_floor_plus_two_plus_the_next_checkpoints_blocks_not_at_the_reserve(int reserve, int checkpointBlocks, int lowWater)
        => Assert.Equal(lowWater, PacingPolicy.LowWater(PacingPolicy.FreeFloor(reserve), checkpointBlocks));

    [Theory]
    [InlineData(4, 4)]
    [InlineData(8, 8)]
    [InlineData(32, PacingPolicy.SteadyUnits)]
    public void A_foreground_wear_slice_is_at_most_a_steady_slice(int maxForeground, int expected)
        => Assert.Equal(expected, PacingPolicy.WearSliceUnits(maxForeground));
}

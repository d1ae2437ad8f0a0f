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
    public void A_checkpoint_in_progress_leaves_the_slice_less_its_pages_and_a_starting_one_one_move()
    {
        // 3 pages at 40 live of 64: 3 * 40 / 24 = 5 moves, + 1 under the mark; the cap is 10 less what collection leaves
        // the slice (2), at least an erase: collection keeps up while the checkpoint runs (before issue 19's tail work: 1 move).
        Assert.Equal(6, PacingPolicy.Quota(State(free: Reserve + 3, valid: 40, inProgress: true)));
        Assert.Equal(PacingPolicy.EraseUnits, PacingPolicy.Quota(State(free: Reserve + 2, valid: 60, inProgress: true, pages: 64)));

        // A nearly empty victim: its erase alone fits the checkpoint's cap, not its erase and a move.
        Assert.Equal(1, PacingPolicy.Quota(State(free: Reserve + 3, valid: 1, inProgress: true)));
        Assert.Equal(PacingPolicy.EraseUnits, PacingPolicy.Quota(State(free: Reserve + 3, valid: 0, inProgress: true)));

        // A short pool: its cap less what it leaves the slice.
        Assert.Equal(PacingPolicy.ShortUnits - PacingPolicy.CheckpointReserveUnits, PacingPolicy.Quota(State(free: Reserve + 1, valid: 40, inProgress: true, pages: 64)));

        Assert.Equal(1, PacingPolicy.Quota(State(free: Reserve + 3, valid: 40, starts: true)));
        Assert.Equal(PacingPolicy.SteadyUnits, PacingPolicy.Quota(State(free: Reserve, valid: 40, starts: true, pages: 64)));
    }

    [Theory]
    [InlineData(4, 2)]
    [InlineData(8, 2)]
    [InlineData(16, 4)]
    [InlineData(32, 8)]
    public void A_checkpoint_slice_fills_an_operation_up_to_a_quarter_of_the_foreground_budget(int maxForeground, int expected)
        => Assert.Equal(expected, PacingPolicy.CheckpointSlicePages(maxForeground));

    [Fact]
    public void A_checkpoint_slice_counts_what_its_operation_already_did()
    {
        // Nothing done yet, mid-block: 8 pages of 1-page entries, or 2 entries of 3 pages (a third would overrun).
        Assert.True(PacingPolicy.CheckpointSliceGoesOn(8, 0, 0, 0, start: 10, written: 17, Ppb));
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 0, 0, 0, start: 10, written: 18, Ppb));
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 0, 0, 0, start: 10, written: 16, Ppb, entryPages: 3));

        // The operation's moves count: after 6 moves, 2 pages.
        Assert.True(PacingPolicy.CheckpointSliceGoesOn(8, 6, 0, 0, start: 10, written: 11, Ppb));
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 6, 0, 0, start: 10, written: 12, Ppb));

        // Copy-on-write pages of the operation count as the slice's.
        Assert.True(PacingPolicy.CheckpointSliceGoesOn(8, 0, 0, 7, start: 10, written: 10, Ppb));
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 0, 0, 8, start: 10, written: 10, Ppb));

        // The first entry always goes, even after an erase or many moves, unless it would open (and maybe erase) a
        // new block after an erase.
        Assert.True(PacingPolicy.CheckpointSliceGoesOn(8, 10, 0, 0, start: 10, written: 10, Ppb));
        Assert.True(PacingPolicy.CheckpointSliceGoesOn(8, 0, 1, 0, start: 10, written: 10, Ppb));
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 0, 1, 0, start: 10, written: 11, Ppb));
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 0, 1, 0, start: Ppb, written: Ppb, Ppb));
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 0, 1, 0, start: Ppb - 2, written: Ppb - 2, Ppb, entryPages: 3));
        Assert.True(PacingPolicy.CheckpointSliceGoesOn(8, 0, 0, 0, start: Ppb, written: Ppb, Ppb));

        // Reaching a new block after the first page stops the slice.
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 0, 0, 0, start: Ppb - 1, written: Ppb, Ppb));
        Assert.False(PacingPolicy.CheckpointSliceGoesOn(8, 0, 0, 0, start: Ppb - 4, written: Ppb - 2, Ppb, entryPages: 3));
    }

    [Fact]
    public void An_operation_pays_for_at_most_one_erase_its_heads_or_its_victims()
    {
        // The hot head opens an unerased block: collection moves but does not erase, even a victim it could finish.
        Assert.Equal(1, PacingPolicy.Quota(State(free: Reserve + 3, valid: 1) with { OpensUnerased = true }));
        Assert.Equal(0, PacingPolicy.Quota(State(free: Reserve + 3, valid: 0) with { OpensUnerased = true }));
        Assert.Equal(PacingPolicy.SteadyUnits - PacingPolicy.EraseUnits, PacingPolicy.Quota(State(free: Reserve + 2, valid: 60, pages: 64) with { OpensUnerased = true }));

        // At the floor the victim's erase still comes.
        Assert.Equal(PacingPolicy.EraseUnits, PacingPolicy.Quota(State(free: Reserve, valid: 0) with { OpensUnerased = true }));

        // The cold head has room for 2 moves before it opens a block to erase: the moves stop there.
        Assert.Equal(2, PacingPolicy.Quota(State(free: Reserve + 2, valid: 60, pages: 64) with { ColdRoom = 2 }));
        Assert.Equal(1 + PacingPolicy.EraseUnits, PacingPolicy.Quota(State(free: Reserve + 3, valid: 1) with { ColdRoom = 2 }));

        // Its next move opens one: that erase is the operation's, so the moves after it fit in the rest of the cap.
        Assert.Equal(PacingPolicy.SteadyUnits - PacingPolicy.EraseUnits, PacingPolicy.Quota(State(free: Reserve + 2, valid: 60, pages: 64) with { ColdRoom = 0 }));
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

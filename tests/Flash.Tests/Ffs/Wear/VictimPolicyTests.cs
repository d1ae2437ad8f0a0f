using Flash.Ffs.Wear;

namespace Flash.Tests.Ffs.Wear;

/// <summary>Victim choice and the wear rule (<see cref="VictimPolicy"/>) over hand-made block views.</summary>
public sealed class VictimPolicyTests
{
    /// <summary>A block view from arrays: per block movable, live pages, erase count, last sequence.</summary>
    private sealed class View(int pagesPerBlock, params (bool Movable, int Valid, uint Erases, ulong Last)[] blocks) : IBlockView
    {
        public int Count => blocks.Length;

        public int PagesPerBlock => pagesPerBlock;

        public bool Movable(int block) => blocks[block].Movable;

        public int Valid(int block) => blocks[block].Valid;

        public uint EraseCount(int block) => blocks[block].Erases;

        public ulong LastSequence(int block) => blocks[block].Last;
    }

    [Fact]
    public void Cost_benefit_collection_takes_the_best_scoring_block_and_skips_unmovable_and_full_ones()
    {
        var view = new View(16,
            (true, 16, 0, 10),   // entirely live: nothing to gain
            (false, 0, 0, 10),   // not movable (e.g. younger than the checkpoint)
            (true, 8, 0, 900),   // half dead, young
            (true, 10, 0, 100),  // less dead but old: (6 * 901) / 26 = 208 beats (8 * 101) / 24 = 34
            (true, 12, 0, 50));  // 4 dead, older still: (4 * 951) / 28 = 136
        Assert.Equal(3, VictimPolicy.CollectionVictim(view, 1000, costBenefit: true));
    }

    [Fact]
    public void Collection_is_greedy_by_default_ties_going_to_the_oldest_block()
    {
        // Blocks 1 and 2 have the most dead pages (13); block 2's data is older. Unmovable block 4 would beat both.
        var view = new View(16, (true, 10, 0, 1), (true, 3, 0, 999), (true, 3, 0, 5), (true, 12, 0, 1), (false, 0, 0, 1));
        Assert.Equal(2, VictimPolicy.CollectionVictim(view, 1000));
    }

    [Fact]
    public void Greedy_and_cost_benefit_differ_on_old_blocks_with_less_garbage()
    {
        // Block 0: 8 dead, written just now; block 1: 6 dead, old. Greedy takes the most garbage, cost-benefit the old block.
        var view = new View(16, (true, 8, 0, 990), (true, 10, 0, 10));
        Assert.Equal(0, VictimPolicy.CollectionVictim(view, 1000));
        Assert.Equal(1, VictimPolicy.CollectionVictim(view, 1000, costBenefit: true));
    }

    [Fact]
    public void Collection_finds_nothing_when_no_block_qualifies()
    {
        Assert.Equal(-1, VictimPolicy.CollectionVictim(new View(16, (true, 16, 0, 1), (false, 2, 0, 1)), 10, costBenefit: true));
        Assert.Equal(-1, VictimPolicy.CollectionVictim(new View(16), 10));
    }

    [Fact]
    public void Wear_levelling_moves_the_least_worn_block_that_has_rested()
    {
        // 4 blocks x 16 pages: the cold window is 8 pages, so at sequence 100 blocks last written at or before 92 are cold.
        var view = new View(16,
            (true, 16, 1, 99),   // least worn, but hot (written just now)
            (true, 16, 5, 10),   // cold
            (true, 16, 3, 40),   // cold and less worn: the victim
            (false, 16, 0, 1));  // not movable
        Assert.Equal(2, VictimPolicy.WearLevelingVictim(view, 100));
    }

    [Fact]
    public void Wear_levelling_falls_back_to_the_least_worn_movable_block_and_breaks_ties_by_age()
    {
        var hot = new View(16, (true, 16, 4, 99), (true, 16, 2, 98), (true, 16, 2, 97));
        Assert.Equal(2, VictimPolicy.WearLevelingVictim(hot, 100));
        Assert.Equal(-1, VictimPolicy.WearLevelingVictim(new View(16, (false, 1, 0, 0)), 100));
    }

    [Theory]
    [InlineData(10u, 5.0, 7u, 2, 6u, true)]    // gap 3 > 2 and the next free block (6 + 1 = 7) would be above the mean
    [InlineData(10u, 5.0, 8u, 2, 6u, false)]   // gap 2: not over the threshold
    [InlineData(10u, 8.0, 7u, 2, 6u, false)]   // the pool still has a block below the mean: new writes level wear
    [InlineData(10u, 8.0, 7u, 2, null, true)]  // no free block: the pool cannot help
    [InlineData(10u, 5.0, null, 2, 6u, false)] // nothing movable
    public void The_wear_rule(uint max, double mean, uint? victim, int threshold, uint? next, bool due)
        => Assert.Equal(due, VictimPolicy.WearLevelingDue(max, mean, victim, threshold, next));
}

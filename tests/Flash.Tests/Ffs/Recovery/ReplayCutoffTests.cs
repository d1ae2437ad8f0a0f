using Flash.Ffs.Recovery;

namespace Flash.Tests.Ffs.Recovery;

/// <summary>The replay's stopping rule: the first sequence number above the checkpoint that no page carries.</summary>
public class ReplayCutoffTests
{
    private const ulong Gap = 1UL << 19;

    [Fact]
    public void Consecutive_numbers_have_no_cutoff()
        => Assert.Equal(ulong.MaxValue, ReplayCutoff.FirstGap([11, 12, 13, 14], 10, Gap));

    [Fact]
    public void Nothing_after_the_checkpoint_has_no_cutoff()
        => Assert.Equal(ulong.MaxValue, ReplayCutoff.FirstGap([], 10, Gap));

    [Fact]
    public void The_first_missing_number_is_the_cutoff()
        => Assert.Equal(13UL, ReplayCutoff.FirstGap([11, 12, 14, 16], 10, Gap));

    [Fact]
    public void A_missing_first_page_after_the_checkpoint_is_the_cutoff()
        => Assert.Equal(11UL, ReplayCutoff.FirstGap([12, 13], 10, Gap));

    [Fact]
    public void Numbers_at_or_below_the_checkpoint_and_duplicates_are_ignored()
        => Assert.Equal(ulong.MaxValue, ReplayCutoff.FirstGap([5, 9, 10, 11, 11, 12], 10, Gap));

    [Fact]
    public void The_jump_an_earlier_recovery_left_is_no_gap_but_a_gap_after_it_is()
    {
        Assert.Equal(ulong.MaxValue, ReplayCutoff.FirstGap([11, 12, 12 + Gap + 5, 13 + Gap + 5], 10, Gap));
        Assert.Equal(14 + Gap + 5, ReplayCutoff.FirstGap([11, 12, 12 + Gap + 5, 13 + Gap + 5, 15 + Gap + 5], 10, Gap));
    }
}

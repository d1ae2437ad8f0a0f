using Flash.Ffs.Wear;

namespace Flash.Tests.Ffs.Wear;

/// <summary>The block state machine: every legal transition applies, illegal ones throw and change nothing.</summary>
public sealed class BlockTransitionTests
{
    public static TheoryData<string, string, string> Legal => new()
    {
        { "Open", "Free", "Open" },
        { "Close", "Open", "Full" },
        { "Release", "Full", "Free" },
        { "Release", "Checkpoint", "Free" },
        { "AssignCheckpoint", "Free", "Checkpoint" },
        { "AbandonCheckpoint", "Checkpoint", "Full" },
        { "AssignAnchor", "Free", "Anchor" },
        { "AssignAnchor", "Anchor", "Anchor" },
        { "Retire", "Open", "Retiring" },
        { "Retire", "Full", "Retiring" },
        { "MarkBad", "Free", "Bad" },
        { "MarkBad", "Open", "Bad" },
        { "MarkBad", "Full", "Bad" },
        { "MarkBad", "Checkpoint", "Bad" },
        { "MarkBad", "Anchor", "Bad" },
        { "MarkBad", "Retiring", "Bad" },
        { "WrittenSinceCheckpoint", "Free", "Full" },
        { "WrittenSinceCheckpoint", "Open", "Full" },
        { "WrittenSinceCheckpoint", "Full", "Full" },
        { "WrittenSinceCheckpoint", "Checkpoint", "Full" },
    };

    public static TheoryData<string, string> Illegal => new()
    {
        { "Open", "Full" },
        { "Open", "Retiring" },
        { "Open", "Bad" },
        { "Close", "Free" },
        { "Close", "Checkpoint" },
        { "Release", "Open" },
        { "Release", "Anchor" },
        { "Release", "Retiring" },
        { "Release", "Bad" },
        { "AssignCheckpoint", "Full" },
        { "AbandonCheckpoint", "Free" },
        { "AssignAnchor", "Full" },
        { "Retire", "Free" },
        { "Retire", "Bad" },
        { "MarkBad", "Bad" },
        { "WrittenSinceCheckpoint", "Anchor" },
        { "WrittenSinceCheckpoint", "Bad" },
    };

    [Theory]
    [MemberData(nameof(Legal))]
    public void A_legal_transition_leads_to_its_state_and_keeps_the_free_count(string transitionName, string fromName, string toName)
    {
        var (transition, from, to) = (Enum.Parse<BlockTransition>(transitionName), Enum.Parse<BlockState>(fromName), Enum.Parse<BlockState>(toName));
        var states = new BlockStates(4);
        states.Restore(2, from);
        int freeBefore = states.FreeCount;
        states.Apply(2, transition);
        Assert.Equal(to, states[2]);
        Assert.Equal(freeBefore + (to == BlockState.Free ? 1 : 0) - (from == BlockState.Free ? 1 : 0), states.FreeCount);
        Assert.Equal(BlockState.Free, states[1]);
    }

    [Theory]
    [MemberData(nameof(Illegal))]
    public void An_illegal_transition_throws_and_changes_nothing(string transitionName, string fromName)
    {
        var (transition, from) = (Enum.Parse<BlockTransition>(transitionName), Enum.Parse<BlockState>(fromName));
        var states = new BlockStates(4);
        states.Restore(2, from);
        int freeBefore = states.FreeCount;
        var ex = Assert.Throws<IllegalBlockTransitionException>(() => states.Apply(2, transition));
        Assert.Equal((2, from, transition), (ex.Block, ex.From, ex.Transition));
        Assert.Equal(from, states[2]);
        Assert.Equal(freeBefore, states.FreeCount);
    }

    [Fact]
    public void The_policy_allows_exactly_the_listed_transitions()
    {
        var legal = Legal.Select(row => (Enum.Parse<BlockTransition>(row.Data.Item1), Enum.Parse<BlockState>(row.Data.Item2))).ToHashSet();
        foreach (var transition in Enum.GetValues<BlockTransition>())
        {
            foreach (var from in Enum.GetValues<BlockState>())
            {
                Assert.Equal(legal.Contains((transition, from)), BlockTransitions.Allows(transition, from));
            }
        }
    }

    [Fact]
    public void Restoring_an_unknown_state_is_refused()
    {
        var states = new BlockStates(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => states.Restore(0, (BlockState)7));
        Assert.Equal(BlockState.Free, states[0]);
    }
}

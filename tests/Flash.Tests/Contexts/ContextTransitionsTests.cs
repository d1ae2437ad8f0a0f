using Flash.Ffs;
using Flash.Ffs.Contexts;

namespace Flash.Tests.Contexts;

/// <summary>The context state machine as a pure function, without a device.</summary>
public sealed class ContextTransitionsTests
{
    private static readonly ContextTable Fresh = ContextTable.Initial with { Generation = 5, Sequence = 9 };

    private static ContextTable ValidAlternate => Fresh.WithState(ContextArea.Area1, ContextState.Valid).WithLabel(ContextArea.Area1, "R2");

    private static ContextOperation Op(ContextOperationKind kind, ContextArea area = ContextArea.Area0, string? path = null, string? label = null, int retries = 0, bool trial = false,
        params (string Path, byte[] Data)[] files)
        => new(kind, area, files.Length == 0 ? null : files.Select(f => KeyValuePair.Create(f.Path, f.Data)).ToArray(), path, label, retries, trial);

    [Fact]
    public void A_write_starts_the_alternate_and_clears_its_label_and_the_boot_flag()
    {
        var before = ValidAlternate with { AlternateBoot = true, BootRetries = 2 };
        var t = ContextTransitions.Next(before, Op(ContextOperationKind.Write, ContextArea.Area1, files: ("components/a.bin", [1])));
        Assert.Equal(ContextState.Writing, t.State1);
        Assert.Equal("", t.Label1);
        Assert.False(t.AlternateBoot);
        Assert.Equal(0, t.BootRetries);
        Assert.Same(t, ContextTransitions.Next(t, Op(ContextOperationKind.Delete, ContextArea.Area1, path: "components/a.bin")));
    }

    [Fact]
    public void The_current_area_is_refused_except_for_configuration()
    {
        Assert.Throws<CurrentContextWriteException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.Write, ContextArea.Area0, files: ("a.bin", [1]))));
        Assert.Throws<CurrentContextWriteException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.Delete, ContextArea.Area0, path: "a.bin")));
        Assert.Throws<CurrentContextWriteException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.Clear, ContextArea.Area0)));
        Assert.Throws<CurrentContextWriteException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.WriteConfiguration, ContextArea.Area0, files: ("components/a.bin", [1]))));
        Assert.Same(Fresh, ContextTransitions.Next(Fresh, Op(ContextOperationKind.WriteConfiguration, ContextArea.Area0, files: ("config/node.cfg", [1]))));
        Assert.Throws<ArgumentException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.WriteConfiguration, ContextArea.Area1, files: ("config/node.cfg", [1]))));
    }

    [Theory]
    [InlineData("/abs")]
    [InlineData("a/../b")]
    [InlineData("a//b")]
    [InlineData("./a")]
    [InlineData("dir/")]
    [InlineData("")]
    public void Unclean_paths_are_refused(string path)
    {
        Assert.Throws<FlashInvalidPathException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.Write, ContextArea.Area1, files: (path, [1]))));
        Assert.Throws<FlashInvalidPathException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.Delete, ContextArea.Area1, path: path)));
    }

    [Fact]
    public void Completion_needs_a_written_alternate_and_keeps_or_sets_the_label()
    {
        Assert.Throws<ContextStateException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.MarkComplete)));
        var writing = Fresh.WithState(ContextArea.Area1, ContextState.Writing);
        Assert.Equal(("R3", ContextState.Valid), Pick(ContextTransitions.Next(writing, Op(ContextOperationKind.MarkComplete, label: "R3"))));
        Assert.Equal(("R2", ContextState.Valid), Pick(ContextTransitions.Next(ValidAlternate, Op(ContextOperationKind.MarkComplete))));

        static (string, ContextState) Pick(ContextTable t) => (t.Label1, t.State1);
    }

    [Fact]
    public void A_switch_swaps_the_areas_and_a_failed_trial_becomes_invalid()
    {
        Assert.Throws<ContextStateException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.Switch)));
        var t = ContextTransitions.Next(ValidAlternate with { AlternateBoot = true, BootRetries = 1 }, Op(ContextOperationKind.Switch, trial: true));
        Assert.Equal((ContextArea.Area1, ContextState.Trial, ContextState.Invalid, false), (t.Current, t.CurrentState, t.AlternateState, t.AlternateBoot));

        // Back from a trial that was not confirmed: the trial area is invalid, the old current valid again.
        var valid0 = t.WithState(ContextArea.Area0, ContextState.Valid);
        var back = ContextTransitions.Next(valid0, Op(ContextOperationKind.Switch));
        Assert.Equal((ContextArea.Area0, ContextState.Valid, ContextState.Invalid), (back.Current, back.CurrentState, back.AlternateState));
        var confirmed = ContextTransitions.Next(t, Op(ContextOperationKind.ConfirmCurrent));
        Assert.Equal(ContextState.Valid, confirmed.CurrentState);
        Assert.Throws<ContextStateException>(() => ContextTransitions.Next(confirmed, Op(ContextOperationKind.ConfirmCurrent)));
    }

    [Fact]
    public void The_boot_flag_needs_a_valid_alternate_and_counts_down()
    {
        Assert.Throws<ContextStateException>(() => ContextTransitions.Next(Fresh, Op(ContextOperationKind.SetAlternateBoot, retries: 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContextTransitions.Next(ValidAlternate, Op(ContextOperationKind.SetAlternateBoot, retries: 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => ContextTransitions.Next(ValidAlternate, Op(ContextOperationKind.SetAlternateBoot, retries: 65536)));
        var t = ContextTransitions.Next(ValidAlternate, Op(ContextOperationKind.SetAlternateBoot, retries: 2));
        Assert.Equal((true, 2), (t.AlternateBoot, t.BootRetries));
        t = ContextTransitions.Next(t, Op(ContextOperationKind.ConsumeBootRetry));
        Assert.Equal((true, 1), (t.AlternateBoot, t.BootRetries));
        t = ContextTransitions.Next(t, Op(ContextOperationKind.ConsumeBootRetry));
        Assert.Equal((false, 0), (t.AlternateBoot, t.BootRetries));
        t = ContextTransitions.Next(t, Op(ContextOperationKind.ConsumeBootRetry));
        Assert.Equal((false, 0), (t.AlternateBoot, t.BootRetries));
        var set = ContextTransitions.Next(ValidAlternate, Op(ContextOperationKind.SetAlternateBoot, retries: 4));
        Assert.Equal((false, 0), Flag(ContextTransitions.Next(set, Op(ContextOperationKind.ClearAlternateBoot))));
        Assert.Equal((false, 0), Flag(ContextTransitions.Next(set, Op(ContextOperationKind.Invalidate, ContextArea.Area1))));
        Assert.Equal((true, 4), Flag(ContextTransitions.Next(set, Op(ContextOperationKind.Invalidate, ContextArea.Area0))));

        static (bool, int) Flag(ContextTable t) => (t.AlternateBoot, t.BootRetries);
    }

    [Fact]
    public void No_transition_touches_generation_or_sequence_and_the_input_is_not_changed()
    {
        var start = ValidAlternate with { AlternateBoot = true, BootRetries = 3 };
        var snapshot = start with { };
        ContextOperation[] ops =
        [
            Op(ContextOperationKind.Write, ContextArea.Area1, files: ("a", [1])), Op(ContextOperationKind.Delete, ContextArea.Area1, path: "a"),
            Op(ContextOperationKind.Clear, ContextArea.Area1), Op(ContextOperationKind.MarkComplete), Op(ContextOperationKind.Switch),
            Op(ContextOperationKind.SetAlternateBoot, retries: 1), Op(ContextOperationKind.ClearAlternateBoot), Op(ContextOperationKind.ConsumeBootRetry),
            Op(ContextOperationKind.Invalidate, ContextArea.Area1), Op(ContextOperationKind.WriteConfiguration, files: ("config/x", [1])),
        ];
        foreach (var op in ops)
        {
            var t = ContextTransitions.Next(start, op);
            Assert.Equal((start.Generation, start.Sequence), (t.Generation, t.Sequence));
        }

        Assert.Equal(snapshot, start);
    }

    [Fact]
    public void A_batch_applies_in_order_and_refuses_a_batched_clear()
    {
        var writing = ContextTransitions.NextAll(Fresh, [Op(ContextOperationKind.Write, ContextArea.Area1, files: ("a", [1])), Op(ContextOperationKind.MarkComplete, label: "R9"), Op(ContextOperationKind.Switch)]);
        Assert.Equal((ContextArea.Area1, "R9"), (writing.Current, writing.LabelOf(writing.Current)));
        Assert.Throws<ArgumentException>(() => ContextTransitions.NextAll(Fresh, [Op(ContextOperationKind.Clear, ContextArea.Area1), Op(ContextOperationKind.ClearAlternateBoot)]));
        Assert.Equal(Fresh.WithState(ContextArea.Area1, ContextState.Invalid), ContextTransitions.NextAll(Fresh, [Op(ContextOperationKind.Clear, ContextArea.Area1)]));
    }
}

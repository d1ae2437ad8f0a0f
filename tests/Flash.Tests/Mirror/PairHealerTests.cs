using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>Self-heal on its own: the repair after a damaged read, the explicit heal of a current file, the scrub.</summary>
public class PairHealerTests
{
    [Fact]
    public void A_damaged_read_is_repaired_on_the_primary_from_the_secondary()
    {
        var parts = PairParts.Create();
        var good = PairRig.Pattern(2500, 1);
        parts.WriteBoth("components/c.bin", good);
        string abs = PairParts.AlternatePath(parts.MemberA, "components/c.bin");
        parts.MemberA.Store!.FileSystem.WriteAllBytes(abs, PairRig.Pattern(2500, 2)); // the primary's copy goes wrong

        var healer = new PairHealer(parts.Failover, parts.Gates, parts.Events);
        var data = healer.Heal(new FlashDataCorruptException(abs, 0, "damaged"), "components/c.bin", current: false);

        Assert.Equal(good, data);
        Assert.Equal(good, parts.MemberA.Store.FileSystem.ReadAllBytes(abs));
        var healed = Assert.Single(parts.Healed);
        Assert.Equal(parts.MemberA.DeviceId, healed.DeviceId);
        Assert.Equal(abs, healed.Path);
    }

    [Fact]
    public void No_repair_from_a_secondary_at_another_sequence_the_read_fails_as_it_did()
    {
        var parts = PairParts.Create();
        parts.WriteBoth("components/c.bin", PairRig.Pattern(900, 1));
        var store = parts.MemberA.Store!;
        store.Apply(new ContextOperation(ContextOperationKind.Write, store.Alternate, [new("components/only-a.bin", [1, 2, 3])]), store.Table.Sequence + 1); // the secondary is now behind
        string abs = PairParts.AlternatePath(parts.MemberA, "components/c.bin");
        byte[] before = store.FileSystem.ReadAllBytes(abs);

        var original = new FlashDataCorruptException(abs, 0, "damaged");
        var healer = new PairHealer(parts.Failover, parts.Gates, parts.Events);
        Assert.Same(original, Assert.Throws<FlashDataCorruptException>(() => healer.Heal(original, "components/c.bin", current: false)));
        Assert.Equal(before, store.FileSystem.ReadAllBytes(abs));
        Assert.Empty(parts.Healed);
    }

    [Fact]
    public void Explicit_heal_rewrites_the_primary_only_when_the_judge_refuses_its_copy_and_accepts_the_secondarys()
    {
        var parts = PairParts.Create();
        var good = PairRig.Pattern(300, 3);
        parts.Protocol.Mutate(t => new ContextOperation(ContextOperationKind.WriteConfiguration, t.Current, [new("config/node.cfg", good)]), CancellationToken.None);
        string abs = ContextStore.Absolute(parts.MemberA.Store!.Current, "config/node.cfg");
        var healer = new PairHealer(parts.Failover, parts.Gates, parts.Events);
        bool IsGood(ReadOnlyMemory<byte> m) => m.Span.SequenceEqual(good);

        Assert.False(healer.HealCurrent("config/node.cfg", IsGood)); // the primary's copy is right: nothing to do
        parts.MemberA.Store.FileSystem.WriteAllBytes(abs, PairRig.Pattern(300, 4));
        Assert.False(healer.HealCurrent("config/node.cfg", _ => false)); // nobody's copy is accepted: nothing changes
        Assert.Equal(PairRig.Pattern(300, 4), parts.MemberA.Store.FileSystem.ReadAllBytes(abs));

        Assert.True(healer.HealCurrent("config/node.cfg", IsGood));
        Assert.Equal(good, parts.MemberA.Store.FileSystem.ReadAllBytes(abs));
        Assert.Single(parts.Healed);
    }

    [Fact]
    public void Scrub_repairs_the_secondary_where_it_differs_and_counts_what_it_checked()
    {
        var parts = PairParts.Create();
        parts.WriteBoth("components/a.bin", PairRig.Pattern(1000, 5));
        parts.WriteBoth("components/b.bin", PairRig.Pattern(1100, 6));
        string abs = PairParts.AlternatePath(parts.MemberB, "components/b.bin");
        parts.MemberB.Store!.FileSystem.WriteAllBytes(abs, [9, 9, 9]);

        var report = new PairHealer(parts.Failover, parts.Gates, parts.Events).Scrub(CancellationToken.None);

        Assert.Equal(1, report.FilesRepaired);
        Assert.Equal(parts.MemberA.Store!.List(parts.MemberA.Store.Alternate).Count + parts.MemberA.Store.List(parts.MemberA.Store.Current).Count, report.FilesChecked);
        Assert.Equal(PairRig.Pattern(1100, 6), parts.MemberB.Store.FileSystem.ReadAllBytes(abs));
        Assert.Equal(parts.MemberB.DeviceId, Assert.Single(parts.Healed).DeviceId);
        Assert.Equal(0, new PairHealer(parts.Failover, parts.Gates, parts.Events).Scrub(CancellationToken.None).FilesRepaired);
    }
}

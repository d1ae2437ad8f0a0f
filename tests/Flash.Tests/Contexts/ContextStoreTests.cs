using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Tests.Mirror;

namespace Flash.Tests.Contexts;

public class ContextStoreTests
{
    private static FlashSimulator NewDevice() => FlashSimulator.Create(new FlashSimulatorOptions { Geometry = PairRig.Small, Seed = 7 });

    [Fact]
    public void Table_round_trips_and_rejects_damage()
    {
        var t = ContextTable.Initial.WithState(ContextArea.Area1, ContextState.Valid).WithLabel(ContextArea.Area1, "R2.1") with { Generation = 42, Sequence = 7, AlternateBoot = true, BootRetries = 3 };
        var bytes = t.Encode();
        Assert.Equal(ContextTable.EncodedLength, bytes.Length);
        Assert.Equal(t, ContextTable.Decode(bytes));
        bytes[10] ^= 1;
        Assert.Throws<ContextTableCorruptException>(() => ContextTable.Decode(bytes));
        Assert.Throws<ContextTableCorruptException>(() => ContextTable.Decode(bytes.AsSpan(0, 50)));
    }

    [Fact]
    public void Write_complete_switch_and_boot_flag()
    {
        using var dev = NewDevice();
        ContextStore.Format(dev);
        var store = ContextStore.Mount(dev);
        Assert.Equal(ContextArea.Area0, store.Current);
        Assert.Throws<CurrentContextWriteException>(() => store.Write(ContextArea.Area0, "x.bin", [1]));
        Assert.Throws<ContextStateException>(() => store.SwitchContexts());
        Assert.Throws<ContextStateException>(() => store.MarkAlternateComplete());

        var comp = PairRig.Pattern(9000, 1);
        store.WriteAlternate("components/cpu.bin", comp);
        store.WriteAlternate(ContextLayout.ComponentMapFile, [1, 2, 3]);
        Assert.Equal(ContextState.Writing, store.Table.AlternateState);
        Assert.Throws<ContextStateException>(() => store.SetAlternateBoot(2));
        store.MarkAlternateComplete("v1");
        var t = store.SetAlternateBoot(2);
        Assert.True(t.AlternateBoot);
        Assert.Equal(2, t.BootRetries);
        t = store.ConsumeBootRetry();
        Assert.Equal(1, t.BootRetries);
        t = store.ConsumeBootRetry();
        Assert.False(t.AlternateBoot);
        store.SetAlternateBoot(1);
        t = store.SwitchContexts(trial: true);
        Assert.Equal(ContextArea.Area1, t.Current);
        Assert.Equal(ContextState.Trial, t.CurrentState);
        Assert.False(t.AlternateBoot);
        Assert.Equal(comp, store.ReadCurrent("components/cpu.bin"));
        Assert.Equal(["components/cpu.bin", "sgc.map"], store.ListCurrent());
        Assert.Throws<CurrentContextWriteException>(() => store.Write(ContextArea.Area1, "components/cpu.bin", [0]));
        store.ConfirmCurrent();
        store.Unmount();

        store = ContextStore.Mount(dev);
        Assert.Equal(ContextArea.Area1, store.Current);
        Assert.Equal(ContextState.Valid, store.Table.CurrentState);
        Assert.Equal("v1", store.Table.LabelOf(store.Current));
        store.WriteAlternate("config/a.cfg", [5]);
        store.ClearAlternate();
        Assert.Empty(store.ListAlternate());
        Assert.Equal(ContextState.Invalid, store.Table.AlternateState);
        store.Unmount();
    }

    [Fact]
    public void Missing_layout_and_damaged_tables_are_specific_errors()
    {
        using var dev = NewDevice();
        FlashFileSystem.Format(dev);
        var fs = FlashFileSystem.Mount(dev);
        Assert.Throws<ContextStoreNotFormattedException>(() => ContextStore.Open(fs));
        fs.Unmount();

        ContextStore.Format(dev);
        fs = FlashFileSystem.Mount(dev);
        fs.WriteAllBytes(ContextLayout.TableCopy1, new byte[ContextTable.EncodedLength]);
        Assert.Throws<ContextTableCorruptException>(() => ContextStore.Open(fs));
        fs.Unmount();
    }

    /// <summary>A power cut at every device mutation of a switch, a set and a clear of the boot flag: the table is old or new.</summary>
    [Theory]
    [InlineData("switch")]
    [InlineData("setboot")]
    [InlineData("clearboot")]
    public void Power_cut_at_every_mutation_leaves_old_or_new_table(string flow)
    {
        using var dev = NewDevice();
        ContextStore.Format(dev);
        var store = ContextStore.Mount(dev);
        store.WriteAlternate("components/a.bin", PairRig.Pattern(5000, 3));
        store.MarkAlternateComplete("v2");
        if (flow == "clearboot")
        {
            store.SetAlternateBoot(3);
        }

        var before = store.Table;
        var snap = dev.Snapshot();
        Func<ContextStore, ContextTable> op = flow switch
        {
            "switch" => s => s.SwitchContexts(),
            "setboot" => s => s.SetAlternateBoot(3),
            _ => s => s.ClearAlternateBoot(),
        };

        // Dry run to count mutations and learn the new table.
        var dry = FlashSimulator.FromSnapshot(snap);
        var ds = ContextStore.Mount(dry);
        long start = dry.MutationCount;
        var after = op(ds);
        long count = dry.MutationCount - start;
        Assert.True(count > 0);

        for (long k = 1; k <= count; k++)
        {
            var sim = FlashSimulator.FromSnapshot(snap);
            var s = ContextStore.Mount(sim);
            sim.CutPowerAfter(k);
            try
            {
                op(s);
            }
            catch (Flash.Drivers.PowerLossException)
            {
            }

            sim.PowerUp();
            var again = ContextStore.Mount(sim);
            var t = again.Table;
            Assert.True(t == before || t == after, $"cut {k}/{count}: {t}");
            Assert.True(again.FileSystem.Check().IsClean);
        }
    }
}

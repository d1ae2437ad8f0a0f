#pragma warning disable xUnit1051 // the pair API is exercised with and without tokens on purpose
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

public class RedundantPairTests
{
    private static RedundantPair NewPair(RailDevice a, RailDevice b, RedundantPairOptions? options = null)
    {
        RedundantPair.Format(a, b);
        return RedundantPair.Mount(a, b, options);
    }

    private static async Task InstallAsync(RedundantPair pair, string label, int seed)
    {
        await pair.WriteAlternateAsync(
        [
            new("components/cpu.bin", PairRig.Pattern(6000, seed)),
            new("components/io.bin", PairRig.Pattern(1500, seed + 1)),
            new(ContextLayout.ComponentMapFile, PairRig.Pattern(200, seed + 2)),
            new("config/node.cfg", PairRig.Pattern(300, seed + 3)),
        ]);
        await pair.MarkAlternateCompleteAsync(label);
    }

    [Fact]
    public async Task Mirrored_flow_reports_transactions_and_converges()
    {
        var (a, b, rail) = PairRig.Create();
        var pair = NewPair(a, b);
        var phases = new List<(ulong, MirrorTransactionPhase)>();
        pair.TransactionChanged += (_, e) => phases.Add((e.TransactionId, e.Phase));
        Assert.Same(a, pair.Primary.Device);
        await InstallAsync(pair, "v1", 10);
        var t = await pair.SwitchContextsAsync();
        Assert.Equal(ContextArea.Area1, t.Current);
        Assert.Equal(PairRig.Pattern(6000, 10), await pair.ReadCurrentAsync("components/cpu.bin"));
        Assert.Equal(4, (await pair.ListCurrentAsync()).Count);
        Assert.Equal(
            [MirrorTransactionPhase.Started, MirrorTransactionPhase.PrimaryCompleted, MirrorTransactionPhase.BackupCompleted, MirrorTransactionPhase.Completed],
            phases.Where(p => p.Item1 == 1).Select(p => p.Item2));
        Assert.Equal(3UL, pair.Sequence);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();

        pair = RedundantPair.Mount(b, a);
        Assert.Same(a, pair.Primary.Device);
        Assert.Equal("v1", pair.Table.LabelOf(pair.Table.Current));
        PairRig.AssertConverged(pair);
        Assert.Equal(0, rail.Overlaps);
    }

    [Fact]
    public async Task Bad_input_gets_specific_errors_and_leaves_devices_consistent()
    {
        var (a, b, _) = PairRig.Create();
        var (c, d, _) = PairRig.Create();
        var big = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = PairRig.Small.WithBlockCount(128) });
        Assert.Throws<DeviceGeometryMismatchException>(() => RedundantPair.Format(a, big));
        Assert.Throws<PairNotFormattedException>(() => RedundantPair.Mount(a, b));
        RedundantPair.Format(a, b);
        RedundantPair.Format(c, d);
        Assert.Throws<DeviceGeometryMismatchException>(() => RedundantPair.Mount(a, big));
        Assert.Throws<PairMismatchException>(() => RedundantPair.Mount(a, c));

        var pair = RedundantPair.Mount(a, b);
        await InstallAsync(pair, "v1", 1);
        ulong seq = pair.Sequence;
        await Assert.ThrowsAsync<CurrentContextWriteException>(() => pair.WriteAsync(pair.Table.Current, "x.bin", new byte[10]));
        await Assert.ThrowsAsync<ContextStateException>(() => pair.ConfirmCurrentAsync());
        using (var cts = new CancellationTokenSource())
        {
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pair.WriteAlternateAsync("late.bin", new byte[10], cts.Token));
        }

        Assert.Equal(seq, pair.Sequence);
        PairRig.AssertConverged(pair);

        // Cancellation after the primary committed: the backup still runs, the error says the change is in effect.
        using (var cts = new CancellationTokenSource())
        {
            void Cancel(object? s, MirrorTransactionEventArgs e)
            {
                if (e.Phase == MirrorTransactionPhase.PrimaryCompleted)
                {
                    cts.Cancel();
                }
            }

            pair.TransactionChanged += Cancel;
            var ex = await Assert.ThrowsAsync<MirrorTransactionCanceledException>(() => pair.SwitchContextsAsync(cancellationToken: cts.Token));
            pair.TransactionChanged -= Cancel;
            Assert.True(ex.Committed);
        }

        Assert.Equal(seq + 1, pair.Sequence);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();

        // A damaged context table on one device is rebuilt from the other.
        var fs = FlashFileSystem.Mount(b);
        fs.WriteAllBytes(ContextLayout.TableCopy0, new byte[7]);
        fs.WriteAllBytes(ContextLayout.TableCopy1, new byte[7]);
        fs.Unmount();
        pair = RedundantPair.Mount(a, b);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task Redesignation_survives_remount()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        PairDesignationEventArgs? seen = null;
        pair.Redesignated += (_, e) => seen = e;
        var p = await pair.RedesignateAsync();
        Assert.Same(b, p.Device);
        Assert.Equal(2UL, seen!.Generation);
        await pair.WriteAlternateAsync("a.bin", new byte[100]);
        await pair.DisposeAsync();
        pair = RedundantPair.Mount(a, b);
        Assert.Same(b, pair.Primary.Device);
        Assert.Equal(PairRole.Secondary, pair.Members[0].Role);
        PairRig.AssertConverged(pair);
    }

    [Fact]
    public async Task Secondary_failure_mid_write_degrades_then_rejoins()
    {
        var (a, b, rail) = PairRig.Create();
        var pair = NewPair(a, b);
        var health = new List<PairHealthEventArgs>();
        pair.HealthChanged += (_, e) => health.Add(e);
        await InstallAsync(pair, "v1", 1);
        b.Inner.CutPowerAfter(2); // in the middle of the backup write
        await pair.WriteAlternateAsync("components/new.bin", PairRig.Pattern(8000, 9));
        Assert.True(pair.IsDegraded);
        Assert.True(pair.Secondary.IsFailed);
        Assert.Contains(health, h => h.IsDegraded);
        await pair.WriteAlternateAsync("components/more.bin", PairRig.Pattern(100, 9));
        Assert.Equal(PairRig.Pattern(100, 9), await pair.ReadAlternateAsync("components/more.bin"));

        b.Inner.PowerUp();
        await pair.ReplaceDeviceAsync(b);
        Assert.False(pair.IsDegraded);
        Assert.Contains(health, h => !h.IsDegraded);
        PairRig.AssertConverged(pair);
        Assert.Equal(0, rail.Overlaps);
    }

    [Fact]
    public async Task Primary_failure_mid_write_moves_to_survivor_and_blank_replacement_gets_full_copy()
    {
        var (a, b, rail) = PairRig.Create();
        var progress = new List<PairSyncProgress>();
        var pair = NewPair(a, b, new RedundantPairOptions { Progress = new SyncProgress(progress) });
        await InstallAsync(pair, "v1", 1);
        a.Inner.CutPowerAfter(2);
        await pair.WriteAlternateAsync("components/new.bin", PairRig.Pattern(8000, 9));
        Assert.Same(b, pair.Primary.Device);
        Assert.True(pair.IsDegraded);
        Assert.Equal(PairRig.Pattern(8000, 9), await pair.ReadAlternateAsync("components/new.bin"));

        var fresh = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = PairRig.Small, Seed = 5 });
        rail.Sims.Add(fresh);
        var c = new RailDevice(fresh, rail);
        await pair.ReplaceDeviceAsync(c);
        Assert.False(pair.IsDegraded);
        Assert.NotEmpty(progress);
        Assert.Equal(progress[^1].FilesTotal, progress[^1].FilesDone);
        PairRig.AssertConverged(pair);
        await pair.DisposeAsync();

        // A blank secondary found at mount gets a full copy too.
        var blank = new RailDevice(FlashSimulator.Create(new FlashSimulatorOptions { Geometry = PairRig.Small, Seed = 6 }), rail);
        rail.Sims.Add(blank.Inner);
        pair = RedundantPair.Mount(b, blank);
        PairRig.AssertConverged(pair);
        Assert.Equal(0, rail.Overlaps);
    }

    [Fact]
    public async Task Older_primary_is_brought_up_to_date_from_the_secondary()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        await InstallAsync(pair, "v1", 1);
        await pair.DisposeAsync();
        var oldA = a.Inner.Snapshot();
        pair = RedundantPair.Mount(a, b);
        await pair.SwitchContextsAsync();
        var expected = pair.Table;
        await pair.DisposeAsync();

        var (a2, _, rail) = PairRig.Restore(oldA, b.Inner.Snapshot());
        var b2 = new RailDevice(rail.Sims[1], rail);
        pair = RedundantPair.Mount(a2, b2);
        Assert.Same(a2, pair.Primary.Device);
        Assert.Equal(expected.Current, pair.Table.Current);
        Assert.Equal(expected.Sequence, pair.Table.Sequence);
        PairRig.AssertConverged(pair);
    }

    [Fact]
    public async Task Uncorrectable_page_is_healed_from_the_other_device()
    {
        var (a, b, _) = PairRig.Create();
        var pair = NewPair(a, b);
        await InstallAsync(pair, "v1", 20);
        await pair.SwitchContextsAsync();
        var healed = new List<SelfHealEventArgs>();
        pair.SelfHealed += (_, e) => healed.Add(e);
        var content = PairRig.Pattern(6000, 20);

        InjectInto(a.Inner, content);
        Assert.Equal(content, await pair.ReadCurrentAsync("components/cpu.bin"));
        Assert.Single(healed);
        Assert.Equal(pair.Primary.DeviceId, healed[0].DeviceId);
        Assert.Equal(content, await pair.ReadCurrentAsync("components/cpu.bin"));

        // Damage on the secondary is found and repaired by a scrub.
        InjectInto(b.Inner, PairRig.Pattern(1500, 21));
        var report = await pair.ScrubAsync();
        Assert.Equal(1, report.FilesRepaired);
        Assert.Equal(2, healed.Count);
        PairRig.AssertConverged(pair);
    }

    private static void InjectInto(FlashSimulator sim, byte[] content) => PairRig.DamagePageHolding(sim, content.AsSpan(0, 64));

    private sealed class SyncProgress(List<PairSyncProgress> list) : IProgress<PairSyncProgress>
    {
        public void Report(PairSyncProgress value)
        {
            lock (list)
            {
                list.Add(value);
            }
        }
    }
}

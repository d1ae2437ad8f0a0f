using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Mirror;
using Flash.Tests.Mirror;
using Flash.Tests.Svm;

namespace Flash.Tests.Diagnostics;

/// <summary>
/// Reads every package's instruments with a <see cref="MeterListener"/> and checks them against the counters the
/// libraries keep themselves. Tests run in parallel, so each filters by its own device name and volume id.
/// </summary>
public sealed class MetricsTests
{
    private sealed record Sample(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();

        public Recorder()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name is "Flash.Drivers" or "Flash.Ffs" or "Flash.Svm")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i, v, tags));
            _listener.Start();
        }

        public ConcurrentQueue<Sample> Samples { get; } = new();

        public void Collect() => _listener.RecordObservableInstruments();

        public double Sum(string instrument, params (string Key, object Value)[] tags)
            => Matching(instrument, tags).Sum(s => s.Value);

        public List<Sample> Matching(string instrument, params (string Key, object Value)[] tags)
            => Samples.Where(s => s.Instrument == instrument && tags.All(t => s.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value))).ToList();

        public void Dispose() => _listener.Dispose();

        private void Add(Instrument i, double v, ReadOnlySpan<KeyValuePair<string, object?>> tags)
            => Samples.Enqueue(new Sample(i.Name, v, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
    }

    [Fact]
    public void Device_and_file_system_instruments_match_the_libraries_own_counters()
    {
        using var rec = new Recorder();
        string name = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, 16, 64), Name = name });
        FlashFileSystem.Format(sim, new FormatOptions { VolumeId = 0x1234ABCD });
        var fs = FlashFileSystem.Mount(sim);
        var device = ("flash.device", (object)name);
        var volume = ("flash.volume", (object)"1234ABCD");
        double checkpointsAtMount = rec.Sum("flash.ffs.checkpoints", device, volume); // Format's own checkpoint
        var payload = new byte[5000];
        for (int i = 0; i < 40; i++)
        {
            payload[0] = (byte)i;
            fs.WriteAllBytes($"/f{i % 4}", payload);
        }

        Assert.Equal(payload, fs.ReadAllBytes("/f3"));
        fs.Maintain(new MaintenanceBudget(MaxPages: 64));
        fs.Sync();
        sim.InjectBitFlips(FirstProgrammedPage(sim), 1);
        var buffer = new byte[2048];
        var result = sim.Read(FirstProgrammedPage(sim), buffer, default);
        Assert.Equal(EccStatus.Corrected, result.Status);
        int spareBlock = Enumerable.Range(0, 64).Last(b => !sim.IsBad(b));
        var stats = fs.GetStatistics();
        rec.Collect();

        // Drivers: operations, bytes, ECC, device time, tagged with the device.
        var s = sim.Statistics;
        Assert.Equal(s.PagePrograms, rec.Sum("flash.device.operations", device, ("flash.operation", "program")));
        Assert.Equal(s.PageReads, rec.Sum("flash.device.operations", device, ("flash.operation", "read")));
        Assert.Equal(s.BlockErases, rec.Sum("flash.device.operations", device, ("flash.operation", "erase")));
        Assert.Equal(s.DataBytesProgrammed, rec.Sum("flash.device.bytes", device, ("flash.direction", "program"), ("flash.area", "data")));
        Assert.Equal(s.SpareBytesRead, rec.Sum("flash.device.bytes", device, ("flash.direction", "read"), ("flash.area", "spare")));
        Assert.Equal(s.CorrectedReads, rec.Sum("flash.device.ecc.reads", device, ("flash.ecc", "corrected")));
        Assert.True(rec.Sum("flash.device.ecc.corrected_bits", device) >= 1);
        Assert.Equal(s.SimulatedNanoseconds, rec.Sum("flash.device.time", device));

        // Ffs: counters and histograms tagged with device and volume; gauges read from the mounted volume.
        Assert.Equal(40 * payload.Length, rec.Sum("flash.ffs.user.bytes_written", device, volume));
        Assert.Equal(stats.CheckpointsWritten, rec.Sum("flash.ffs.checkpoints", device, volume) - checkpointsAtMount);
        Assert.Equal(stats.GcPagesMoved, rec.Sum("flash.ffs.gc.pages_moved", device, volume));
        Assert.Equal(40, rec.Matching("flash.ffs.operation.duration", device, volume, ("flash.operation", "write_all")).Count);
        Assert.Single(rec.Matching("flash.ffs.operation.duration", device, volume, ("flash.operation", "read_all")));
        Assert.Single(rec.Matching("flash.ffs.operation.duration", device, volume, ("flash.operation", "maintain")));
        Assert.NotEmpty(rec.Matching("flash.ffs.checkpoint.duration", device, volume, ("flash.checkpoint", "full")));
        Assert.All(rec.Matching("flash.ffs.operation.duration", device, volume), m => Assert.True(m.Value >= 0));
        Assert.Equal(stats.FreeBytes, Assert.Single(rec.Matching("flash.ffs.free_bytes", device, volume)).Value);
        Assert.Equal(stats.UsedBytes, Assert.Single(rec.Matching("flash.ffs.used_bytes", device, volume)).Value);
        Assert.Equal(stats.EraseCountMax, Assert.Single(rec.Matching("flash.ffs.erase_count.max", device, volume)).Value);
        Assert.Equal(stats.WriteAmplification, Assert.Single(rec.Matching("flash.ffs.write_amplification", device, volume)).Value, 6);
        Assert.Equal(stats.BadBlocks, Assert.Single(rec.Matching("flash.ffs.bad_blocks", device, volume)).Value);

        // A grown bad block, and an unmounted volume leaves the gauges.
        fs.Unmount();
        sim.MarkBad(spareBlock);
        Assert.Equal(1, rec.Sum("flash.device.bad_blocks.marked", device));
        int before = rec.Matching("flash.ffs.free_bytes", device, volume).Count;
        rec.Collect();
        Assert.Equal(before, rec.Matching("flash.ffs.free_bytes", device, volume).Count);
    }

    [Fact]
    public void Svm_and_mirror_instruments_count_upgrades_trials_and_report_the_pair()
    {
        using var rec = new Recorder();
        using var node = new SvmNode();
        node.InstallAndBoot();
        double completed = rec.Sum("flash.svm.upgrades", ("flash.outcome", "completed"));
        double committed = rec.Sum("flash.svm.trials", ("flash.outcome", "committed"));
        node.Svm.Upgrade(SvmNode.R2, cancellationToken: TestContext.Current.CancellationToken);
        var report = node.Reboot().Initialize(TestContext.Current.CancellationToken);
        Assert.Equal(Flash.Svm.TrialOutcome.Committed, report.Trial);
        rec.Collect();

        Assert.True(rec.Sum("flash.svm.upgrades", ("flash.outcome", "completed")) >= completed + 1);
        Assert.True(rec.Sum("flash.svm.trials", ("flash.outcome", "committed")) >= committed + 1);
        Assert.NotEmpty(rec.Matching("flash.svm.trials", ("flash.outcome", "started")));
        Assert.Contains(rec.Matching("flash.mirror.degraded"), m => m.Tags.ContainsKey("flash.pair") && m.Value == 0);
        Assert.Contains(rec.Samples, m => m.Instrument == "flash.device.operations" && Equals(m.Tags["flash.device"], "sim"));
    }

    [Fact]
    public async Task Mirror_instruments_follow_a_degraded_pair_until_its_device_is_replaced()
    {
        using var rec = new Recorder();
        var (a, b, _) = PairRig.Create();
        RedundantPair.Format(a, b, cancellationToken: TestContext.Current.CancellationToken);
        var pair = RedundantPair.Mount(a, b, cancellationToken: TestContext.Current.CancellationToken);
        var tag = ("flash.pair", (object)pair.PairId.ToString("N"));
        await pair.WriteAlternateAsync("components/a.bin", PairRig.Pattern(3000, 1), TestContext.Current.CancellationToken);
        b.Inner.CutPowerAfter(2); // the secondary fails in the middle of the backup write
        await pair.WriteAlternateAsync("components/b.bin", PairRig.Pattern(8000, 2), TestContext.Current.CancellationToken);
        Assert.True(pair.IsDegraded);
        await Task.Delay(30, TestContext.Current.CancellationToken);
        rec.Collect();
        Assert.Equal(1, rec.Sum("flash.mirror.degradations", tag));
        Assert.Equal(1, rec.Matching("flash.mirror.degraded", tag)[^1].Value);
        Assert.True(rec.Matching("flash.mirror.degraded.time", tag)[^1].Value > 0);

        b.Inner.PowerUp();
        await pair.ReplaceDeviceAsync(b, cancellationToken: TestContext.Current.CancellationToken);
        Assert.False(pair.IsDegraded);
        rec.Collect();
        Assert.Equal(1, rec.Sum("flash.mirror.resyncs", tag));
        Assert.Equal(0, rec.Matching("flash.mirror.degraded", tag)[^1].Value);
        double degradedFor = rec.Matching("flash.mirror.degraded.time", tag)[^1].Value;
        await Task.Delay(30, TestContext.Current.CancellationToken);
        rec.Collect();
        Assert.Equal(degradedFor, rec.Matching("flash.mirror.degraded.time", tag)[^1].Value); // the clock stopped
        await pair.DisposeAsync();
    }

    private static int FirstProgrammedPage(FlashSimulator sim)
        => Enumerable.Range(0, sim.Geometry.PageCount).First(p => sim.ProgramCountOf(p) > 0);
}

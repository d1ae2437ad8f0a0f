using Flash.Drivers;
using Flash.Ffs;
using Flash.Tests.Ffs;

namespace Flash.Tests.Latency;

/// <summary>
/// Long unavoidable work (mount recovery after a power cut, fsck) calls <see cref="FlashFileSystemOptions.Progress"/>
/// at bounded intervals, measured in device operations between consecutive calls, so a watchdog can be kicked.
/// </summary>
public class ProgressTests(ITestOutputHelper output)
{
    /// <summary>2 KiB pages, 16 pages a block, 256 blocks (8 MiB): enough blocks for recovery to scan in several slices.</summary>
    private static readonly FlashGeometry Geometry = new(2048, 64, 16, 256);

    private sealed record Call(FlashProgress Progress, long DeviceOps);

    private static long Ops(IFlashDevice d) => d.Statistics.PageReads + d.Statistics.PagePrograms + d.Statistics.BlockErases;

    [Fact]
    public void Mount_recovery_of_a_long_log_reports_progress_at_bounded_intervals()
    {
        using var dev = FfsTestDevice.Create(Geometry, seed: 5);

        // No checkpoint for a long time: everything written after the format is log that recovery must scan and replay.
        var fs = FfsTestDevice.FormatAndMount(dev, new FlashFileSystemOptions { CheckpointIntervalBlocks = 100_000 });
        var expected = new Dictionary<string, byte[]>();
        for (int f = 0; f < 150; f++)
        {
            var data = FfsTestDevice.Pattern(f % 3 == 0 ? 300 : 24 << 10, f);
            string path = $"/f{f:D3}";
            fs.WriteAllBytes(path, data);
            expected[path] = data;
        }

        long written = dev.Statistics.PagePrograms;
        dev.CutPower();
        dev.PowerUp();

        var calls = new List<Call>();
        long start = Ops(dev);
        fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { Progress = p => calls.Add(new Call(p, Ops(dev))) });
        long end = Ops(dev);

        var scan = calls.Where(c => c.Progress.Phase == "recovery-scan").ToList();
        var replay = calls.Where(c => c.Progress.Phase == "recovery-replay").ToList();
        long maxGap = calls.Zip(calls.Skip(1), (a, b) => b.DeviceOps - a.DeviceOps).DefaultIfEmpty(0).Max();
        output.WriteLine($"{written} pages programmed before the cut; mount: {end - start} device ops, {scan.Count} scan and {replay.Count} replay callbacks, max gap {maxGap} device ops; phases {string.Join(", ", calls.Select(c => $"{c.Progress.Phase} {c.Progress.Done}/{c.Progress.Total}"))}");

        // Recovery scans every block that may hold log (32 blocks a slice) and replays every logged page (256 a slice).
        Assert.True(scan.Count >= 4, $"{scan.Count} recovery-scan callbacks");
        Assert.NotEmpty(replay);
        Assert.All(calls, c => Assert.InRange(c.Progress.Done, 1, c.Progress.Total));
        Assert.True(scan.Zip(scan.Skip(1), (a, b) => b.Progress.Done > a.Progress.Done).All(x => x), "scan progress does not advance");

        // Between two callbacks at most one slice: 32 blocks scanned, each at most every page read once, plus slack for
        // the replay slice's reads; never the whole device (256 blocks x 16 pages = 4096 reads).
        int ppb = Geometry.PagesPerBlock;
        Assert.True(maxGap <= (32 * ppb) + 256, $"max gap {maxGap} device operations between progress callbacks");
        Assert.True(end - start > 2 * maxGap, "the mount was too short to show anything");

        foreach (var (path, data) in expected)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }
    }

    [Fact]
    public void Fsck_reports_progress_at_bounded_intervals()
    {
        using var dev = FfsTestDevice.Create(Geometry, seed: 6);
        var calls = new List<Call>();
        var fs = FfsTestDevice.FormatAndMount(dev, new FlashFileSystemOptions { Progress = p => calls.Add(new Call(p, Ops(dev))) });
        for (int f = 0; f < 100; f++)
        {
            fs.WriteAllBytes($"/f{f:D3}", FfsTestDevice.Pattern(32 << 10, f));
        }

        calls.Clear();
        long start = Ops(dev);
        var report = fs.Check();
        long end = Ops(dev);
        Assert.True(report.IsClean);

        var check = calls.Where(c => c.Progress.Phase == "check").ToList();
        var marks = new List<long> { start };
        marks.AddRange(check.Select(c => c.DeviceOps));
        long maxGap = marks.Zip(marks.Skip(1), (a, b) => b - a).Max();
        output.WriteLine($"fsck: {end - start} device ops, {check.Count} callbacks, max gap {maxGap}, last {check[^1].Progress.Done}/{check[^1].Progress.Total}");

        // One callback every 256 pages verified, and a final one with Done == Total.
        Assert.True(check.Count >= 5, $"{check.Count} check callbacks");
        Assert.True(maxGap <= 256 + 8, $"max gap {maxGap} page reads between progress callbacks");
        Assert.Equal(check[^1].Progress.Total, check[^1].Progress.Done);
        Assert.True(end - check[^1].DeviceOps <= 256);
    }

    [Theory]
    [InlineData("recovery-scan")]
    [InlineData("recovery-replay")]
    public void A_cancelled_mount_recovery_writes_nothing_and_a_later_mount_recovers_everything(string phase)
    {
        using var dev = FfsTestDevice.Create(Geometry, seed: 6);
        var fs = FfsTestDevice.FormatAndMount(dev, new FlashFileSystemOptions { CheckpointIntervalBlocks = 100_000 });
        var expected = new Dictionary<string, byte[]>();
        for (int f = 0; f < 150; f++)
        {
            var data = FfsTestDevice.Pattern(f % 3 == 0 ? 300 : 24 << 10, f);
            fs.WriteAllBytes($"/f{f:D3}", data);
            expected[$"/f{f:D3}"] = data;
        }

        dev.CutPower();
        dev.PowerUp();

        // The watchdog callback decides to give up (e.g. a shutdown request) during the chosen phase.
        using var cancel = new CancellationTokenSource();
        long mutations = dev.Statistics.Mutations;
        var options = new FlashFileSystemOptions
        {
            MountCancellation = cancel.Token,
            Progress = p =>
            {
                if (p.Phase == phase)
                {
                    cancel.Cancel();
                }
            },
        };
        Assert.ThrowsAny<OperationCanceledException>(() => FlashFileSystem.Mount(dev, options));
        Assert.Equal(mutations, dev.Statistics.Mutations);

        var recovered = FlashFileSystem.Mount(dev);
        foreach (var (path, data) in expected)
        {
            Assert.Equal(data, recovered.ReadAllBytes(path));
        }

        Assert.True(recovered.Check().IsClean);
    }

    [Fact]
    public void A_check_stops_at_its_next_progress_point_when_cancelled_and_the_volume_stays_usable()
    {
        using var dev = FfsTestDevice.Create(Geometry, seed: 7);
        var fs = FfsTestDevice.FormatAndMount(dev);
        for (int f = 0; f < 60; f++)
        {
            fs.WriteAllBytes($"/f{f:D3}", FfsTestDevice.Pattern(24 << 10, f));
        }

        // Cancelled from the watchdog callback while the check runs.
        using var cancel = new CancellationTokenSource();
        var options = new FlashFileSystemOptions { Progress = p => cancel.Cancel() };
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev, options);
        Assert.ThrowsAny<OperationCanceledException>(() => fs.Check(new FsckOptions { Cancellation = cancel.Token }));
        fs.WriteAllBytes("/after", [1, 2, 3]);
        Assert.Equal([1, 2, 3], fs.ReadAllBytes("/after"));
        Assert.True(fs.Check().IsClean);
    }

    /// <summary>Every mount reads the whole checkpoint first: a large index is read with progress, and may be cancelled.</summary>
    [Fact]
    public void Loading_a_large_checkpoint_reports_progress_and_can_be_cancelled()
    {
        using var dev = FfsTestDevice.Create(Geometry, seed: 7);
        var fs = FfsTestDevice.FormatAndMount(dev);
        for (int batch = 0; batch < 4000; batch += 50)
        {
            // One transaction packs fifty small files into a few pages.
            using var txn = fs.BeginTransaction();
            for (int f = batch; f < batch + 50; f++)
            {
                txn.WriteAllBytes($"/entry-{f:D5}", FfsTestDevice.Pattern(16, f));
            }

            txn.Commit();
        }

        fs.Unmount();
        var calls = new List<Call>();
        fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { Progress = p => calls.Add(new Call(p, Ops(dev))) });
        var load = calls.Where(c => c.Progress.Phase == "mount-checkpoint").ToList();
        Assert.True(load.Count >= 2, $"{load.Count} mount-checkpoint callbacks");
        Assert.Equal(load[^1].Progress.Total, load[^1].Progress.Done);
        Assert.True(load.Zip(load.Skip(1), (a, b) => b.DeviceOps - a.DeviceOps).All(gap => gap <= 64), "more than 64 page reads between callbacks");
        fs.Unmount();

        using var cancel = new CancellationTokenSource();
        long mutations = dev.Statistics.Mutations;
        var options = new FlashFileSystemOptions { MountCancellation = cancel.Token, Progress = _ => cancel.Cancel() };
        Assert.ThrowsAny<OperationCanceledException>(() => FlashFileSystem.Mount(dev, options));
        Assert.Equal(mutations, dev.Statistics.Mutations);
        Assert.Equal(FfsTestDevice.Pattern(16, 3999), FlashFileSystem.Mount(dev).ReadAllBytes("/entry-03999"));
    }
}

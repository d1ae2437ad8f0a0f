using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Tests.Ffs;
using Xunit;

namespace Flash.Tests.Latency;

/// <summary>
/// Checkpoints are written a slice per operation (issue 11). Each one must describe the volume exactly as it was when
/// it started, whatever changed while it was being written, and a power cut while one is in progress loses nothing.
/// </summary>
public sealed class IncrementalCheckpointTests(ITestOutputHelper output)
{
    /// <summary>Random churn over every kind of change, with checkpoints spanning many operations.</summary>
    private sealed class Churner(FlashFileSystem fs, int seed)
    {
        private readonly Random _rng = new(seed);

        public Dictionary<string, byte[]> Model { get; } = [];

        /// <summary>What the step in progress does to the model (a step cut short by a power cut may or may not land).</summary>
        public Action<Dictionary<string, byte[]>>? Pending { get; private set; }

        public static string[] Directories { get; } = ["/d0", "/d1", "/d2"];

        /// <summary>Directories, and 400 small files that make the index about ten pages (several slices).</summary>
        public void Prepare()
        {
            foreach (var d in Directories)
            {
                fs.CreateDirectory(d);
            }

            fs.CreateDirectory("/ballast");
            for (int i = 0; i < 400; i++)
            {
                fs.WriteAllBytes($"/ballast/b{i:D3}", FfsTestDevice.Pattern(16, i));
            }
        }

        public void Step(int i)
        {
            string dir = Directories[_rng.Next(Directories.Length)];
            string path = $"{dir}/f{_rng.Next(24)}";
            int choice = _rng.Next(100);
            Action run;
            if (choice < 30 || !Model.TryGetValue(path, out var current))
            {
                // Small (inline) and chunked files.
                var data = FfsTestDevice.Pattern(_rng.Next(4) == 0 ? _rng.Next(1, 300) : _rng.Next(2048, 12_000), i);
                Pending = m => m[path] = data;
                run = () => fs.WriteAllBytes(path, data);
            }
            else if (choice < 55)
            {
                int length = current.Length;
                int at = _rng.Next(length);
                var patch = FfsTestDevice.Pattern(Math.Min(2500, length - at), i + 7);
                Pending = m => m[path] = [.. m[path][..at], .. patch, .. m[path][(at + patch.Length)..]];
                run = () =>
                {
                    using var file = fs.Open(path, FlashFileMode.Open);
                    file.Seek(at, SeekOrigin.Begin);
                    file.Write(patch);
                };
            }
            else if (choice < 65)
            {
                int length = _rng.Next(current.Length + 1);
                Pending = m => m[path] = m[path][..length];
                run = () =>
                {
                    using var file = fs.Open(path, FlashFileMode.Open);
                    file.SetLength(length);
                };
            }
            else if (choice < 75)
            {
                string target = $"{Directories[_rng.Next(Directories.Length)]}/f{_rng.Next(24)}";
                Pending = m =>
                {
                    var data = m[path];
                    m.Remove(path);
                    m[target] = data;
                };
                run = () => fs.Rename(path, target);
            }
            else if (choice < 85)
            {
                Pending = m => m.Remove(path);
                run = () => fs.Delete(path);
            }
            else
            {
                // A transaction touching two files at once.
                string other = $"{dir}/g{_rng.Next(8)}";
                var a = FfsTestDevice.Pattern(_rng.Next(1, 5000), i + 11);
                var b = FfsTestDevice.Pattern(_rng.Next(1, 300), i + 13);
                Pending = m =>
                {
                    m[path] = a;
                    m[other] = b;
                };
                run = () => fs.BeginTransaction().WriteAllBytes(path, a).WriteAllBytes(other, b).Commit();
            }

            run();
            Pending(Model);
            Pending = null;
        }

        public static Dictionary<string, byte[]> Copy(Dictionary<string, byte[]> model) => model.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

        public static bool Matches(FlashFileSystem mounted, Dictionary<string, byte[]> model)
        {
            foreach (var (path, data) in model)
            {
                if (!mounted.Exists(path) || !data.AsSpan().SequenceEqual(mounted.ReadAllBytes(path)))
                {
                    return false;
                }
            }

            return Directories.Sum(d => mounted.ListDirectory(d).Count) == model.Count;
        }
    }

    private static FlashFileSystemOptions Options => new() { CheckpointIntervalBlocks = 2, MaxForegroundPagesPerOperation = 2 };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Every_incremental_checkpoint_describes_the_volume_as_it_was_when_it_started(int seed)
    {
        using var dev = FfsTestDevice.Create(seed: (ulong)seed);
        var fs = FfsTestDevice.FormatAndMount(dev, Options);
        var churn = new Churner(fs, seed);
        churn.Prepare();
        int spanning = 0;
        for (int i = 0; i < 1500; i++)
        {
            bool before = fs.CheckpointInProgress;
            churn.Step(i);
            spanning += before && fs.CheckpointInProgress ? 1 : 0;
            if (i % 97 == 0)
            {
                fs.Maintain(new MaintenanceBudget(MaxPages: 8));
            }
        }

        output.WriteLine($"{fs.IncrementalCheckpointsCommitted} incremental checkpoints, {spanning} operations ran while one was in progress");
        Assert.True(fs.IncrementalCheckpointsCommitted >= 10, $"only {fs.IncrementalCheckpointsCommitted} incremental checkpoints");
        Assert.True(spanning >= 50, $"only {spanning} operations ran while a checkpoint was in progress");

        // A mount from the last checkpoint plus the log, without a clean unmount, sees the same volume.
        var snapshot = dev.Snapshot();
        using (var crashed = FlashSimulator.FromSnapshot(snapshot))
        {
            var recovered = FlashFileSystem.Mount(crashed);
            Assert.True(Churner.Matches(recovered, churn.Model));
            Assert.True(recovered.Check().IsClean);
        }

        fs.Unmount();
        var remounted = FlashFileSystem.Mount(dev);
        Assert.True(Churner.Matches(remounted, churn.Model));
        Assert.True(remounted.Check().IsClean);
    }

    [Fact]
    public void A_power_cut_at_every_device_operation_while_a_checkpoint_is_in_progress_loses_nothing_durable()
    {
        using var dev = FfsTestDevice.Create(seed: 9);
        var fs = FfsTestDevice.FormatAndMount(dev, Options);
        var churn = new Churner(fs, 9);
        churn.Prepare();
        int i = 0;
        for (; i < 400 || !fs.CheckpointInProgress; i++)
        {
            churn.Step(i);
        }

        // The volume now has a checkpoint in progress. Run the same 60 further operations from this state again and
        // again, cutting power after a different device mutation each time.
        var snapshot = dev.Snapshot();
        var durable = Churner.Copy(churn.Model);
        fs.Unmount();
        int cuts = 0, afterCommit = 0;

        // Every mutation in the exhaustive profile; every other one by default (the sweep checks each cut with a full
        // mount and Check, serially, so this halves the test's minutes and still lands cuts inside every slice).
        int stride = Flash.Tests.PowerLoss.PowerLossProfile.Exhaustive ? 1 : 2;
        for (long cut = 1; cut < 1000; cut += stride)
        {
            using var sim = FlashSimulator.FromSnapshot(snapshot);
            var f = FlashFileSystem.Mount(sim, Options);
            var replay = new Churner(f, 9);
            foreach (var (k, v) in durable)
            {
                replay.Model[k] = v.ToArray();
            }

            int checkpoints = f.IncrementalCheckpointsCommitted;
            sim.CutPowerAfter(cut);
            try
            {
                for (int k = 0; k < 60; k++)
                {
                    replay.Step(10_000 + k);
                }

                sim.CancelPowerCut();
                break;
            }
            catch (Exception) when (!sim.IsPowered)
            {
            }

            cuts++;
            afterCommit += f.IncrementalCheckpointsCommitted > checkpoints ? 1 : 0;
            var before = Churner.Copy(replay.Model);
            var after = Churner.Copy(replay.Model);
            replay.Pending?.Invoke(after);
            sim.PowerUp();
            var recovered = FlashFileSystem.Mount(sim);
            Assert.True(Churner.Matches(recovered, before) || Churner.Matches(recovered, after), $"cut {cut}: the volume is neither the state before nor after the interrupted operation");
            Assert.True(recovered.Check().IsClean, $"cut {cut}: fsck");
        }

        output.WriteLine($"{cuts} cuts, {afterCommit} of them after an incremental checkpoint committed");
        Assert.True(cuts > 100 / stride, $"only {cuts} cuts landed");
        Assert.True(afterCommit > 0, "no cut landed after an incremental checkpoint committed");
    }

    [Fact]
    public void No_operation_writes_more_than_a_slice_of_a_large_index()
    {
        // 3,000 entries: a checkpoint of about 60 pages, which a synchronous checkpoint would write inside one operation.
        var geometry = new FlashGeometry(2048, 64, 64, 256);
        using var dev = FfsTestDevice.Create(geometry, seed: 5);
        var options = new FlashFileSystemOptions { CheckpointIntervalBlocks = 4, MaxForegroundPagesPerOperation = 8 };
        var fs = FfsTestDevice.FormatAndMount(dev, options);
        var data = new byte[200];
        long worstPrograms = 0;
        for (int i = 0; i < 3000; i++)
        {
            if (i % 100 == 0)
            {
                fs.CreateDirectory($"/d{i / 100}");
            }

            long p0 = dev.Statistics.PagePrograms;
            fs.WriteAllBytes($"/d{i / 100}/f{i}", data);
            worstPrograms = Math.Max(worstPrograms, dev.Statistics.PagePrograms - p0);
        }

        var stats = fs.GetStatistics();
        output.WriteLine($"{stats.CheckpointsWritten} checkpoints; worst create programmed {worstPrograms} pages");
        Assert.True(fs.IncrementalCheckpointsCommitted >= 3);

        // One create programs its own page, a slice of 8 checkpoint pages, and, when a checkpoint starts, its fixed
        // part (header, heads and the block table: 64 + 256 x 14 bytes, 2 pages), an entry written ahead of its turn
        // and the anchor: far below the ~60 pages of the whole index.
        Assert.True(worstPrograms <= 16, $"an operation programmed {worstPrograms} pages");
    }
}

using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Format;
using Xunit;

namespace Flash.Tests.Ffs.Checkpoint;

/// <summary>
/// An incremental checkpoint, written a slice per operation while the volume keeps changing, holds exactly the
/// entries a full checkpoint of the volume as it was at its start holds. The full one is taken on a copy of the
/// device made at that start: mounted (the log replayed up to there) and unmounted cleanly.
/// </summary>
public sealed class IncrementalCheckpointEquivalenceTests(ITestOutputHelper output)
{
    private static FlashFileSystemOptions Options => new() { CheckpointIntervalBlocks = 2, MaxForegroundPagesPerOperation = 2 };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void An_incremental_checkpoint_holds_the_entries_of_a_full_one_taken_at_its_start(int seed)
    {
        using var dev = FfsTestDevice.Create(seed: (ulong)seed);
        var fs = FfsTestDevice.FormatAndMount(dev, Options);
        var churn = new Churn(fs, seed);
        churn.Prepare();
        int compared = 0;
        string[]? expected = null;
        long committedAtStart = 0, writtenAtStart = 0;
        for (int step = 0; step < 1200 && compared < 6; step++)
        {
            bool before = fs.CheckpointInProgress;
            churn.Step(step);
            if (!before && fs.CheckpointInProgress)
            {
                expected = FullCheckpointOfCopy(dev.Snapshot());
                committedAtStart = fs.IncrementalCheckpointsCommitted;
                writtenAtStart = fs.GetStatistics().CheckpointsWritten;
            }
            else if (expected is not null && !fs.CheckpointInProgress)
            {
                // Committed, and the only checkpoint since its start (else the anchor names a later one).
                if (fs.IncrementalCheckpointsCommitted == committedAtStart + 1 && fs.GetStatistics().CheckpointsWritten == writtenAtStart + 1)
                {
                    var image = FlashFileSystem.ReadCheckpointImage(dev);
                    Assert.False(image.Clean);
                    Assert.Equal(expected, Entries(image));
                    compared++;
                }

                expected = null;
            }
        }

        output.WriteLine($"{compared} incremental checkpoints compared, {fs.IncrementalCheckpointsCommitted} committed");
        Assert.True(compared >= 3, $"only {compared} incremental checkpoints could be compared");
        churn.Close();
        Assert.True(fs.Check().IsClean);
    }

    /// <summary>The entries of a full checkpoint of the volume on a copy of the device.</summary>
    private static string[] FullCheckpointOfCopy(FlashSimulatorSnapshot snapshot)
    {
        using var copy = FlashSimulator.FromSnapshot(snapshot);
        FlashFileSystem.Mount(copy, Options).Unmount();
        var image = FlashFileSystem.ReadCheckpointImage(copy);
        Assert.True(image.Clean);
        return Entries(image);
    }

    private static string[] Entries(CheckpointImage image) => CheckpointHarness.Entries(image);

    /// <summary>Writes, patches through handles (some held across operations), truncations, renames and deletes.</summary>
    private sealed class Churn(FlashFileSystem fs, int seed)
    {
        private readonly Random _rng = new(seed);
        private readonly Dictionary<string, FlashFile> _held = [];

        public void Prepare()
        {
            foreach (var d in new[] { "/a", "/b", "/ballast" })
            {
                fs.CreateDirectory(d);
            }

            for (int i = 0; i < 300; i++)
            {
                fs.WriteAllBytes($"/ballast/f{i:D3}", FfsTestDevice.Pattern(24, i));
            }
        }

        public void Step(int i)
        {
            string path = $"/{(_rng.Next(2) == 0 ? "a" : "b")}/f{_rng.Next(16)}";
            int choice = _rng.Next(100);
            bool exists = fs.Exists(path);
            if (_held.TryGetValue(path, out var held))
            {
                if (choice < 50)
                {
                    held.Write(FfsTestDevice.Pattern(_rng.Next(100, 3000), i));
                }
                else
                {
                    held.Dispose();
                    _held.Remove(path);
                }
            }
            else if (choice < 35 || !exists)
            {
                fs.WriteAllBytes(path, FfsTestDevice.Pattern(_rng.Next(3) == 0 ? _rng.Next(1, 200) : _rng.Next(2048, 9000), i));
            }
            else if (choice < 50)
            {
                var h = fs.Open(path, FlashFileMode.Open);
                h.Position = _rng.Next((int)Math.Max(1, h.Length));
                h.Write(FfsTestDevice.Pattern(_rng.Next(10, 2500), i));
                if (_held.Count < 3)
                {
                    _held[path] = h;
                }
                else
                {
                    h.Dispose();
                }
            }
            else if (choice < 60)
            {
                using var h = fs.Open(path, FlashFileMode.Open);
                h.SetLength(_rng.Next((int)h.Length + 1));
            }
            else if (choice < 75)
            {
                string to = $"/{(_rng.Next(2) == 0 ? "a" : "b")}/f{_rng.Next(16)}";
                if (!_held.ContainsKey(to))
                {
                    fs.Rename(path, to, replace: true);
                }
            }
            else if (choice < 90)
            {
                fs.Delete(path);
            }
            else
            {
                fs.WriteAllBytes($"/ballast/f{_rng.Next(300):D3}", FfsTestDevice.Pattern(_rng.Next(8, 300), i));
            }
        }

        public void Close()
        {
            foreach (var h in _held.Values)
            {
                h.Dispose();
            }

            _held.Clear();
        }
    }
}

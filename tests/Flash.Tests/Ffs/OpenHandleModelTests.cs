using Flash.Drivers.Simulation;
using Flash.Ffs;
using Xunit;

namespace Flash.Tests.Ffs;

/// <summary>
/// Random interleavings of handles held open with unflushed writes, committed churn that keeps checkpoints coming
/// (a checkpoint due after every filled block, written two pages per operation, each compared with the volume at its
/// start), idle maintenance, clean remounts and power cuts, checked after every step against a model: the committed
/// content of every file, and what readers see while a handle holds writes. A power cut must leave exactly the
/// committed state, whatever checkpoints came between a handle's first write and its flush.
/// </summary>
public sealed class OpenHandleModelTests
{
    private static readonly string[] Files = ["/f0", "/f1", "/f2", "/f3", "/f4", "/f5"];
    private static readonly string[] Churn = ["/churn0", "/churn1", "/churn2"];
    private const int MaxFile = 60_000;

    private static bool Exhaustive => string.Equals(Environment.GetEnvironmentVariable("FLASH_TEST_PROFILE"), "exhaustive", StringComparison.OrdinalIgnoreCase);

    public static TheoryData<int> Seeds => [.. Enumerable.Range(1, Exhaustive ? 400 : 24)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Held_handles_agree_with_the_model_across_checkpoints_and_power_cuts(int seed)
    {
        new Run(seed).Execute(Exhaustive ? 600 : 250);
    }

    private sealed class Held(FlashFile handle, List<byte> content)
    {
        public FlashFile Handle { get; } = handle;

        public List<byte> Content { get; } = content;
    }

    private sealed class Run(int seed)
    {
        private static readonly FlashFileSystemOptions Options = new() { CheckpointIntervalBlocks = 1, MaxForegroundPagesPerOperation = 2 };

        private readonly Random _rng = new(seed);
        private readonly Dictionary<string, byte[]> _committed = [];
        private readonly Dictionary<string, Held> _held = [];
        private readonly FlashSimulator _dev = FfsTestDevice.Create(seed: (ulong)seed);
        private FlashFileSystem _fs = null!;
        private int _dataSeed;

        public void Execute(int steps)
        {
            using var dev = _dev;
            _fs = FfsTestDevice.FormatAndMount(_dev, Options);
            for (int i = 0; i < 10; i++)
            {
                // Half the volume is static, so garbage collection runs throughout.
                _fs.WriteAllBytes($"/static{i}", FfsTestDevice.Pattern(100_000, 5000 + i));
            }

            int overOpen = 0;
            for (int step = 0; step < steps; step++)
            {
                string what = Step();
                overOpen += _fs.CheckpointsOverOpenTransactions;
                Compare($"seed {seed} step {step} ({what})");
            }

            foreach (var path in _held.Keys.ToArray())
            {
                Close(path);
            }

            Compare($"seed {seed} end");
            Assert.True(_fs.Check().IsClean);
            _fs.Unmount();
            _fs = FlashFileSystem.Mount(_dev, Options);
            Compare($"seed {seed} final remount");
            Assert.True(overOpen > 0, "no checkpoint was taken while a handle held writes");
        }

        private string Step()
        {
            int roll = _rng.Next(100);
            string file = Files[_rng.Next(Files.Length)];
            bool held = _held.ContainsKey(file);
            switch (roll)
            {
                case < 12 when !held:
                    return Open(file);
                case < 40 when held:
                    return Write(file);
                case < 45 when held:
                    return SetLength(file);
                case < 52 when held:
                    _held[file].Handle.Flush();
                    _committed[file] = [.. _held[file].Content];
                    return $"flush {file}";
                case < 58 when held:
                    return Close(file);
                case < 62 when !held && _committed.ContainsKey(file):
                    _fs.Delete(file);
                    _committed.Remove(file);
                    return $"delete {file}";
                case < 85:
                {
                    string path = Churn[_rng.Next(Churn.Length)];
                    var data = FfsTestDevice.Pattern(_rng.Next(0, 20_000), ++_dataSeed);
                    _fs.WriteAllBytes(path, data);
                    _committed[path] = data;
                    return $"churn {path} ({data.Length})";
                }

                case < 89:
                    _fs.Sync();
                    return "sync";
                case < 94:
                    _fs.Maintain(new MaintenanceBudget(MaxPages: _rng.Next(1, 64)));
                    return "maintain";
                case < 97:
                    return CutPower();
                case < 98:
                    return Remount();
                default:
                    return "idle";
            }
        }

        private string Open(string path)
        {
            bool exists = _committed.TryGetValue(path, out var old);
            var mode = exists
                ? _rng.Next(3) switch { 0 => FlashFileMode.Open, 1 => FlashFileMode.Append, _ => FlashFileMode.Create }
                : _rng.Next(2) == 0 ? FlashFileMode.Create : FlashFileMode.OpenOrCreate;
            var handle = _fs.Open(path, mode);
            var content = mode == FlashFileMode.Create || !exists ? new List<byte>() : [.. old!];
            _held[path] = new Held(handle, content);
            return $"open {path} {mode}";
        }

        private string Write(string path)
        {
            var h = _held[path];
            long at = _rng.Next(0, Math.Min(MaxFile, h.Content.Count + 3000));
            var data = FfsTestDevice.Pattern(_rng.Next(1, 9000), ++_dataSeed);
            h.Handle.Position = at;
            h.Handle.Write(data);
            PowerLoss.Data.Place(h.Content, at, data);

            return $"write {path} @{at} ({data.Length})";
        }

        private string SetLength(string path)
        {
            var h = _held[path];
            int length = _rng.Next(0, Math.Max(1, h.Content.Count + 5000));
            h.Handle.SetLength(length);
            if (length < h.Content.Count)
            {
                h.Content.RemoveRange(length, h.Content.Count - length);
            }
            else
            {
                h.Content.AddRange(new byte[length - h.Content.Count]);
            }

            return $"setlength {path} {length}";
        }

        private string Close(string path)
        {
            _held[path].Handle.Dispose();
            _committed[path] = [.. _held[path].Content];
            _held.Remove(path);
            return $"close {path}";
        }

        private string CutPower()
        {
            _dev.CutPower();
            _dev.PowerUp();
            _held.Clear();
            Remounted();
            return "power cut";
        }

        private string Remount()
        {
            foreach (var (path, h) in _held)
            {
                _committed[path] = [.. h.Content];
            }

            _held.Clear();
            _fs.Unmount();
            Remounted();
            return "clean remount";
        }

        private void Remounted()
        {
            _fs = FlashFileSystem.Mount(_dev, Options);
            var report = _fs.Check();
            Assert.True(report.IsClean, report.ToString());
        }

        /// <summary>Every file reads as the model says: a held file as its handle wrote it, the rest as committed.</summary>
        private void Compare(string where)
        {
            foreach (var path in Files.Concat(Churn))
            {
                byte[]? expected = _held.TryGetValue(path, out var h) ? [.. h.Content] : _committed.GetValueOrDefault(path);
                if (expected is null)
                {
                    Assert.False(_fs.Exists(path), $"{where}: {path} exists");
                    continue;
                }

                var actual = _fs.ReadAllBytes(path);
                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    Assert.Fail($"{where}: {path} reads {actual.Length} bytes, expected {expected.Length}" +
                        (h is null ? " (committed)" : " (held)"));
                }
            }
        }
    }
}

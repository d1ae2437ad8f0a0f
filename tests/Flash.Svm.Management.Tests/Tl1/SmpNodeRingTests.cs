using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using Flash.Svm.Management.Tl1;

namespace Flash.Svm.Management.Tests.Tl1;

/// <summary>Rings of real SmpNode processes on loopback, each with its own NVS image files, upgraded one after the other over TL1.</summary>
public sealed class SmpNodeRingTests
{
    [Fact]
    public async Task ARingOfSmpNodeProcessesStopsAtTheNodeWhoseTrialFails()
    {
        await using var ring = await Ring.StartAsync(3, failing: 1);
        var results = await ring.RollAsync();
        Assert.Equal([RingNodeOutcome.Committed, RingNodeOutcome.RolledBack, RingNodeOutcome.Skipped], results.Select(r => r.Outcome));
        Assert.Equal(["2.0.0", "1.0.0", "1.0.0"], await ring.ReleasesAsync());
    }

    /// <summary>
    /// How roll time grows with the ring size: N = 1, 2 by default; 1, 2, 4, 8 with <c>FLASH_TEST_PROFILE=exhaustive</c>;
    /// any list in <c>FLASH_RING_SIZES</c> (tools/ring-roll.sh). The times go to the test output and, when
    /// <c>FLASH_RING_REPORT</c> names a file, to that file (a table row per N); nothing asserts a time.
    /// </summary>
    [Fact]
    public async Task RollTimeGrowsWithTheRingSize()
    {
        var sizes = (Environment.GetEnvironmentVariable("FLASH_RING_SIZES") is { Length: > 0 } list
                ? list.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))
                : string.Equals(Environment.GetEnvironmentVariable("FLASH_TEST_PROFILE"), "exhaustive", StringComparison.OrdinalIgnoreCase) ? [1, 2, 4, 8] : [1, 2])
            .ToList();
        var report = new StringBuilder("| N | start (s) | roll (s) | per node (s) | slowest node (s) |\n|---|---|---|---|---|\n");
        foreach (int n in sizes)
        {
            var start = Stopwatch.StartNew();
            await using var ring = await Ring.StartAsync(n, failing: null);
            var started = start.Elapsed;
            var roll = Stopwatch.StartNew();
            var results = await ring.RollAsync();
            var rolled = roll.Elapsed;
            Assert.All(results, r => Assert.Equal(RingNodeOutcome.Committed, r.Outcome));
            Assert.All(await ring.ReleasesAsync(), r => Assert.Equal("2.0.0", r));
            report.Append(CultureInfo.InvariantCulture, $"| {n} | {started.TotalSeconds:F1} | {rolled.TotalSeconds:F2} | {rolled.TotalSeconds / n:F2} | {results.Max(r => r.Elapsed).TotalSeconds:F2} |\n");
        }

        TestContext.Current.TestOutputHelper?.WriteLine(report.ToString());
        if (Environment.GetEnvironmentVariable("FLASH_RING_REPORT") is { Length: > 0 } file)
        {
            await File.WriteAllTextAsync(file, report.ToString(), TestContext.Current.CancellationToken);
        }
    }

    /// <summary>N SmpNode processes with their own state directories and TL1 ports; one may judge release 2's trial failed.</summary>
    private sealed class Ring : IAsyncDisposable
    {
        private readonly string _root;
        private readonly List<SmpNodeProcess> _nodes = [];

        private Ring(string root) => _root = root;

        public List<IPEndPoint> Endpoints { get; } = [];

        public static async Task<Ring> StartAsync(int n, int? failing)
        {
            var ring = new Ring(Path.Combine(Path.GetTempPath(), "flash-ring-" + Guid.NewGuid().ToString("N")[..10]));
            try
            {
                var ports = new List<int>();
                for (int i = 0; i < n; i++)
                {
                    int port = SmpNodeProcess.FreePort();
                    var args = new List<string> { "--tl1-port", SmpNodeProcess.Port(port), "--sid", $"NODE{i}", "--run-seconds", "600" };
                    if (i == failing)
                    {
                        args.AddRange(["--trial-fails", "2"]);
                    }

                    ring._nodes.Add(SmpNodeProcess.Start(Path.Combine(ring._root, $"node{i}"), args));
                    ports.Add(port);
                }

                for (int i = 0; i < n; i++)
                {
                    await ring._nodes[i].WaitForListenerAsync(ports[i]);
                    ring.Endpoints.Add(new IPEndPoint(IPAddress.Loopback, ports[i]));
                }

                return ring;
            }
            catch
            {
                await ring.DisposeAsync();
                throw;
            }
        }

        public Task<IReadOnlyList<RingNodeResult>> RollAsync()
            => new Tl1RingUpgrade("ADMIN", "flash-admin", "mem:release-2.pkg").RollAsync(Endpoints, TestContext.Current.CancellationToken);

        public async Task<List<string>> ReleasesAsync()
        {
            var releases = new List<string>();
            foreach (var e in Endpoints)
            {
                using var c = await Tl1Connection.ConnectAsync(e, TestContext.Current.CancellationToken);
                await c.CommandAsync("ACT-USER::ADMIN:{0}::\"flash-admin\";", TestContext.Current.CancellationToken);
                var sw = await c.CommandAsync("RTRV-SW:::{0};", TestContext.Current.CancellationToken);
                releases.Add(sw.Response.Split("CURRENT:RELEASE=")[1].Split(',')[0]);
            }

            return releases;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var node in _nodes)
            {
                await node.DisposeAsync();
            }

            if (Directory.Exists(_root))
            {
                Directory.Delete(_root, recursive: true);
            }
        }
    }
}

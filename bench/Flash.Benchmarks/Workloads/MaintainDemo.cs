using System.Globalization;
using Flash.Drivers;
using Flash.Ffs;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// <c>latency [--maintain-ms N] [--page 2048|4096] [--quick]</c>: runs W4's overwrite phase twice on fresh devices,
/// without and with <see cref="FlashFileSystem.Maintain"/> (a simulated-time budget of N ms, default 5) between
/// operations, and prints the per-operation simulated latency of both (docs/latency.md).
/// </summary>
internal static class MaintainDemo
{
    /// <summary>Runs the comparison.</summary>
    /// <param name="args">Options after <c>latency</c>.</param>
    /// <returns>0, or 2 on bad arguments.</returns>
    public static int Run(string[] args)
    {
        int maintainMs = 5, page = 2048;
        bool quick = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--maintain-ms" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int ms) && ms > 0:
                    maintainMs = ms;
                    i++;
                    break;
                case "--page" when i + 1 < args.Length && args[i + 1] is "2048" or "4096":
                    page = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--quick":
                    quick = true;
                    break;
                default:
                    Console.Error.WriteLine($"error: bad option '{args[i]}'; usage: latency [--maintain-ms N] [--page 2048|4096] [--quick]");
                    return 2;
            }
        }

        var geometry = page == 4096 ? FlashGeometry.Nand4KPage128MiB : FlashGeometry.Nand128MiB;
        if (quick)
        {
            geometry = geometry.WithBlockCount(64);
        }

        var scale = quick ? WorkloadScale.Small(geometry) : WorkloadScale.Full(geometry);
        Console.WriteLine($"W4 overwrite phase ({scale.W4Overwrites} durable 4 KiB overwrites, {scale.W4Files} x {scale.W4FileBytes >> 10} KiB files) on {geometry}");
        Console.WriteLine(Line("no maintenance", W4(geometry, scale, null)));
        Console.WriteLine(Line($"Maintain({maintainMs} ms) between ops", W4(geometry, scale, TimeSpan.FromMilliseconds(maintainMs))));
        return 0;
    }

    private static string Line(string label, (long[] Sorted, double MaintainMs) r)
    {
        var s = r.Sorted;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{label,-32} max_op_sim_ms {s[^1] / 1e6:F3}  p99 {P(s, 0.99) / 1e6:F3}  p50 {P(s, 0.50) / 1e6:F3}  mean {s.Average() / 1e6:F3}  (maintenance total {r.MaintainMs:F1} ms simulated)");
    }

    private static long P(long[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static (long[] Sorted, double MaintainMs) W4(FlashGeometry geometry, WorkloadScale scale, TimeSpan? maintain)
    {
        var runner = new WorkloadRunner(geometry, scale, new ResultsFile(), TextWriter.Null);
        var (device, fs) = WorkloadRunner.Fresh(geometry);
        var versions = runner.FillW4(fs);
        var latency = new long[scale.W4Overwrites];
        long maintainNs = 0;
        var rng = new Random(42);
        for (int i = 0; i < latency.Length; i++)
        {
            var (file, chunk) = runner.NextOverwrite(rng);
            long t0 = device.Statistics.SimulatedNanoseconds;
            runner.Overwrite(fs, file, chunk, ++versions[file][chunk]);
            latency[i] = device.Statistics.SimulatedNanoseconds - t0;
            if (maintain is { } budget)
            {
                maintainNs += fs.Maintain(new MaintenanceBudget(SimulatedTimeBudget: budget)).DeviceTime.Ticks * 100;
            }
        }

        Array.Sort(latency);
        return (latency, maintainNs / 1e6);
    }
}

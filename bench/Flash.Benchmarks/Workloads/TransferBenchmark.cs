using System.Diagnostics;
using System.Net;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs.Mirror;
using Flash.Svm.Transfer;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// <c>transfer [--quick]</c> (issue 21): a 256 MiB package (8 MiB with <c>--quick</c>) over HTTP on loopback, from an
/// in-process <see cref="HttpListener"/>, into <see cref="AlternateStagingSink"/> on a redundant pair of NAND simulators.
/// Reports each device's simulated time against the raw program time of the payload (target ≤ 1.1×), and the host
/// memory peak above the idle node (target ≤ 16 MiB), sampled as the process working set every 10 ms minus what the
/// simulators must hold for the blocks written (the simulated flash itself, copy-on-write per block). The flash
/// layers copy each chunk a few times; that garbage dies in gen0, so the peak depends on the gen0 budget, which a node
/// bounds (<c>DOTNET_GCgen0size=0x400000</c>, as <c>.ci/run</c> sets it) and the runtime's default does not.
/// <c>--chunk-kib N</c> sets the staging chunk size (default 1024).
/// </summary>
internal static class TransferBenchmark
{
    /// <summary>Runs the transfer and prints the measurements.</summary>
    /// <param name="args">Options after <c>transfer</c>.</param>
    /// <returns>0 when both targets are met, 1 otherwise.</returns>
    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        long payload = quick ? 8L << 20 : 256L << 20;
        var geometry = new FlashGeometry(2048, 64, 64, quick ? 512 : 4096);
        var content = new byte[payload];
        new Random(21).NextBytes(content);

        using var d0 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 1 });
        using var d1 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 2 });
        RedundantPair.Format(d0, d1);
        using var pair = RedundantPair.Mount(d0, d1);
        using var server = new LoopbackPackageServer(new Dictionary<string, ArraySegment<byte>>(StringComparer.Ordinal)
        {
            ["/warmup.pkg"] = new ArraySegment<byte>(content, 0, 1 << 20),
            ["/package.pkg"] = content,
        });

        var chunkIndex = Array.IndexOf(args, "--chunk-kib");
        var chunk = chunkIndex >= 0 && chunkIndex + 1 < args.Length ? int.Parse(args[chunkIndex + 1], System.Globalization.CultureInfo.InvariantCulture) * 1024 : 1024 * 1024;
        var sink = AlternateStagingSink.Open(pair, chunk);
        using var client = new HttpPackageDownloader();
        // Warm-up (JIT, sockets, HTTP stack) with a small file into memory, so that the baseline is a node that has
        // run a transfer before; the measured one is then the steady-state cost of a download.
        client.DownloadAsync(TransferUrl.Parse(server.Url("warmup.pkg")), null, payload, new MemoryDownloadSink(), CancellationToken.None).GetAwaiter().GetResult();
        using var memory = new HostMemoryPeak(d0, d1);

        Console.WriteLine($"transfer: {payload >> 20} MiB over HTTP on loopback into the alternate context of two {geometry} simulators");
        var before0 = d0.Statistics.Capture();
        var before1 = d1.Statistics.Capture();
        var wall = Stopwatch.StartNew();
        client.DownloadAsync(TransferUrl.Parse(server.Url("package.pkg")), null, payload, sink, CancellationToken.None).GetAwaiter().GetResult();
        wall.Stop();
        memory.Stop();

        var timing = d0.Statistics.Timing;
        double raw = (double)(payload / geometry.PageSize) * timing.ProgramCost(geometry.PageSize);
        bool ok = sink.DurableLength == payload;
        foreach (var (name, counters) in new[] { ("nvs0", d0.Statistics.Capture() - before0), ("nvs1", d1.Statistics.Capture() - before1) })
        {
            double ratio = counters.SimulatedNanoseconds / raw;
            ok &= ratio <= 1.1;
            Console.WriteLine($"  {name}: {counters.SimulatedMilliseconds:F0} ms simulated vs {raw / 1e6:F0} ms raw program = {ratio:F3} x (target 1.1 x); "
                + $"{counters.PagePrograms} programs, {counters.PageReads} reads, {counters.BlockErases} erases");
        }

        var peakMiB = memory.PeakMiB;
        ok &= peakMiB <= 16;
        var gen0 = Environment.GetEnvironmentVariable("DOTNET_GCgen0size");
        Console.WriteLine($"  host memory peak above idle, simulated flash excluded: {peakMiB:F1} MiB (target 16 MiB; GC gen0 budget {(gen0 is null ? "runtime default" : gen0)}"
            + $"{(gen0 is null ? ", set DOTNET_GCgen0size=0x400000 as a node would" : "")}); chunk {chunk >> 10} KiB");
        Console.WriteLine($"  wall clock {wall.ElapsedMilliseconds} ms ({payload / 1048576.0 / wall.Elapsed.TotalSeconds:F1} MiB/s)");
        return ok ? 0 : 1;
    }
}

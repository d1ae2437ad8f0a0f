using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters.Json;
using BenchmarkDotNet.Running;
using Flash.Benchmarks.Workloads;
using Flash.Drivers;

namespace Flash.Benchmarks;

/// <summary>
/// Entry point: <c>workloads</c> runs the reference workloads (WORKLOADS.md), <c>compare</c> compares two results
/// files, anything else goes to BenchmarkDotNet's switcher (<c>--filter '*'</c>, <c>--list flat</c>, <c>--job dry</c> …).
/// </summary>
public static class Program
{
    private const string Usage = """
        Flash.Benchmarks

          workloads [--out DIR] [--workload ID[,ID...]] [--page 2048|4096] [--blocks N] [--quick] [--no-warmup]
              Runs RAW, W1-W9 and W9M of WORKLOADS.md (or the ones named, e.g. --workload W7,W9) and prints
              the results table; with --out, also writes DIR/workloads.json and DIR/workloads.md. The scale
              workloads are long: W7, W7F, W8, W9 and W9M take minutes each.
              --page 4096   4 KiB pages with 128 B spare, 512 blocks (128 MiB)
              --blocks N    another block count (the workload sizes stay those of the 128 MiB device)
              --quick       a 64-block device and scaled-down counts: a smoke run of seconds, not comparable
              --no-warmup   skip the scaled-down warm-up run that jits the code before wall-clock measurements
          latency [--maintain-ms N] [--page 2048|4096] [--quick]
              W4's overwrite phase without and with Maintain(N ms) between operations: worst-case latency.
          svm-upgrade [--quick]
              A full SVM upgrade of a 32 MiB package on a redundant pair: simulated time / raw program time.
          boot-storm [--quick]
              16 modules fetch a 32 MiB component set by TFTP at once: storm simulated time / reading the set once.
          transfer [--quick]
              256 MiB (8 MiB with --quick) over HTTP on loopback into the alternate context of a redundant pair:
              simulated time / raw program time per device (target 1.1), host memory peak above idle (target 16 MiB).
          stream-upgrade [--quick] [--mib N] [--component-kib N]
              The SVM upgrade command streaming a 256 MiB package (16 MiB with --quick) over HTTP on loopback:
              simulated time / raw program time per device, host memory peak above idle (target 16 MiB).
          compare A.json B.json [--threshold PCT]
              Prints both runs side by side with B/A ratios; changes under PCT % (default 2) count as unchanged.
          anything else
              BenchmarkDotNet, e.g. --filter '*' or --filter '*Crc*' --job dry; results in BenchmarkDotNet.Artifacts/.
        """;

    /// <summary>Dispatches on the first argument.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <returns>The exit code: 0 on success, 1 when a workload failed or lost data, 2 on bad arguments.</returns>
    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        try
        {
            if (args.Length > 0 && args[0] == "workloads")
            {
                return RunWorkloads(args[1..]);
            }

            if (args.Length > 0 && args[0] == "latency")
            {
                return MaintainDemo.Run(args[1..]);
            }

            if (args.Length > 0 && args[0] == "svm-upgrade")
            {
                return SvmUpgradeBenchmark.Run(args[1..]);
            }

            if (args.Length > 0 && args[0] == "boot-storm")
            {
                return BootStormBenchmark.Run(args[1..]);
            }

            if (args.Length > 0 && args[0] == "stream-upgrade")
            {
                return StreamingUpgradeBenchmark.Run(args[1..]);
            }

            if (args.Length > 0 && args[0] == "transfer")
            {
                return TransferBenchmark.Run(args[1..]);
            }

            if (args.Length > 0 && args[0] == "compare")
            {
                return RunCompare(args[1..]);
            }

            if (args.Length > 0 && args[0] is "help" or "-h" or "--help" or "-?")
            {
                Console.WriteLine(Usage);
                return 0;
            }
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        // The default exporters (GitHub markdown, CSV, HTML) plus JSON.
        var config = DefaultConfig.Instance.AddExporter(JsonExporter.Full);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    private static int RunWorkloads(string[] args)
    {
        string? outDir = null;
        int page = 2048;
        int? blocks = null;
        bool quick = false;
        bool warmUp = true;
        List<string> ids = [.. WorkloadRunner.AllWorkloads];
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out":
                    outDir = Value(args, ref i);
                    break;
                case "--workload" or "--workloads":
                    ids = [.. Value(args, ref i).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToUpperInvariant())];
                    foreach (var id in ids.Where(id => !WorkloadRunner.AllWorkloads.Contains(id)))
                    {
                        throw new UsageException($"unknown workload '{id}' (known: {string.Join(", ", WorkloadRunner.AllWorkloads)})");
                    }

                    break;
                case "--page":
                    page = Int(Value(args, ref i), "--page");
                    if (page is not (2048 or 4096))
                    {
                        throw new UsageException("--page must be 2048 or 4096");
                    }

                    break;
                case "--blocks":
                    blocks = Int(Value(args, ref i), "--blocks");
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--no-warmup":
                    warmUp = false;
                    break;
                default:
                    throw new UsageException($"unknown option '{args[i]}'");
            }
        }

        var geometry = page == 4096 ? FlashGeometry.Nand4KPage128MiB : FlashGeometry.Nand128MiB;
        if (quick)
        {
            geometry = geometry.WithBlockCount(blocks ?? 64);
        }
        else if (blocks is { } b)
        {
            geometry = geometry.WithBlockCount(b);
        }

        var scale = quick ? WorkloadScale.Small(geometry) : WorkloadScale.Full(geometry);
        var results = new ResultsFile();
        var runner = new WorkloadRunner(geometry, scale, results, Console.Error);
        Console.Error.WriteLine($"Flash workloads ({results.Mode}) on {geometry}, {results.Machine}");
        var started = DateTime.UtcNow;
        if (warmUp && !quick)
        {
            runner.WarmUp(ids);
        }

        bool ok = runner.Run(ids);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"all done in {(DateTime.UtcNow - started).TotalSeconds:F1} s"));

        string markdown = results.ToMarkdown();
        if (outDir is null)
        {
            Console.WriteLine(markdown);
        }
        else
        {
            Directory.CreateDirectory(outDir);
            File.WriteAllText(Path.Combine(outDir, "workloads.json"), results.ToJson());
            File.WriteAllText(Path.Combine(outDir, "workloads.md"), markdown);
            Console.WriteLine(markdown);
            Console.Error.WriteLine($"wrote {Path.Combine(outDir, "workloads.json")} and workloads.md");
        }

        if (!ok)
        {
            Console.Error.WriteLine($"FAILED: {string.Join("; ", results.Failures.Select(f => $"{f.Workload}: {f.Text}"))}");
        }

        return ok ? 0 : 1;
    }

    private static int RunCompare(string[] args)
    {
        double threshold = 0.02;
        var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--threshold")
            {
                threshold = Int(Value(args, ref i), "--threshold") / 100.0;
            }
            else
            {
                files.Add(args[i]);
            }
        }

        if (files.Count != 2)
        {
            throw new UsageException("compare takes two workloads.json files");
        }

        foreach (var f in files.Where(f => !File.Exists(f)))
        {
            throw new UsageException($"no such file: {f}");
        }

        Console.WriteLine(Compare.Run(files[0], files[1], threshold));
        return 0;
    }

    private static string Value(string[] args, ref int i)
        => ++i < args.Length ? args[i] : throw new UsageException($"{args[i - 1]} needs a value");

    private static int Int(string s, string option)
        => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : throw new UsageException($"{option}: '{s}' is not a positive integer");

    private sealed class UsageException(string message) : Exception(message);
}

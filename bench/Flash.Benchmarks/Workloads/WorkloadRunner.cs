using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// Runs the raw-device reference (RAW) and the reference workloads W1–W6 of WORKLOADS.md on the RAM simulator,
/// each from a freshly formatted device (format and the mount after it not counted), and records the documented
/// metrics. Simulated figures come from the device's own counters and are the same on every run.
/// </summary>
internal sealed partial class WorkloadRunner
{
    /// <summary>Every workload id, in run order.</summary>
    public static readonly string[] AllWorkloads = ["RAW", "W1", "W2", "W3", "W4", "W5", "W6", "W7", "W7F", "W8", "W9", "W9M"];

    /// <summary>Mounts and records <c>{what}_wall_ms</c> and <c>{what}_sim_ms</c> (mount, or mount_after_cut).</summary>
    private FlashFileSystem MeasureMount(string w, FlashSimulator device, string what = "mount")
    {
        // The wall clock of one mount is noise on a shared host, so the first passes mount copy-on-write branches of
        // the device (the same bytes; what they write is thrown away) and the last one the device itself, which the
        // workload goes on with and whose simulated time is reported.
        var wall = new double[WallPasses.Count];
        var snapshot = device.Snapshot();
        // A first branch mount is not reported: the scaled-down warm-up leaves the loops over large volumes on
        // unoptimised code, which tiers up during this mount (without it the passes fell 116, 78, 55 ms on W7).
        for (int pass = -1; pass < WallPasses.Count - 1; pass++)
        {
            using var branch = FlashSimulator.FromSnapshot(snapshot);
            QuietHeap();
            var bsw = Stopwatch.StartNew();
            _ = FlashFileSystem.Mount(branch);
            if (pass >= 0)
            {
                wall[pass] = bsw.Elapsed.TotalMilliseconds;
            }
        }

        QuietHeap();
        var c0 = device.Statistics.Capture();
        var sw = Stopwatch.StartNew();
        var fs = FlashFileSystem.Mount(device);
        sw.Stop();
        wall[^1] = sw.Elapsed.TotalMilliseconds;
        WallPasses.Report(_results, w, what + "_wall_ms", wall);
        var d = device.Statistics.Capture() - c0;
        _results.Add(w, what + "_sim_ms", d.SimulatedMilliseconds);
        _results.Notes.Add((w, string.Create(CultureInfo.InvariantCulture, $"{what.Replace('_', ' ')}: {d.PageReads} page reads, {d.PagePrograms} page programs, {d.BlockErases} erases")));
        return fs;
    }

    private const int Io = WorkloadScale.IoSize;
    private const int Seed = 42;

    private readonly FlashGeometry _g;
    private readonly WorkloadScale _s;
    private readonly ResultsFile _results;
    private readonly TextWriter _progress;
    private readonly byte[] _buffer = new byte[Io];
    private readonly byte[] _expected = new byte[Io];

    // W1's volume, kept for W2 ("after W1").
    private (FlashSimulator Device, FlashFileSystem Fs)? _afterW1;

    // The lifetime mutation indexes bounding W4's overwrite phase (first, last), for W6's cut point.
    private (long First, long Last)? _w4Mutations;

    // W1's wall and CPU MB/s (medians of its passes), for W8's ratios.
    private double? _w1WallMbps;
    private double? _w1CpuMbps;

    /// <summary>Creates a runner.</summary>
    /// <param name="geometry">The device geometry.</param>
    /// <param name="scale">Workload sizes.</param>
    /// <param name="results">Where the metrics go.</param>
    /// <param name="progress">Where the progress lines go.</param>
    public WorkloadRunner(FlashGeometry geometry, WorkloadScale scale, ResultsFile results, TextWriter progress)
    {
        _g = geometry;
        _s = scale;
        _results = results;
        _progress = progress;
        results.SetDevice(geometry);
        results.Mode = scale.Quick ? "quick" : "full";
    }

    /// <summary>Creates a blank simulated device of a geometry with the default timing model.</summary>
    /// <param name="geometry">The geometry.</param>
    /// <returns>The device.</returns>
    public static FlashSimulator NewDevice(FlashGeometry geometry)
        => FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry });

    /// <summary>A blank device, formatted and mounted.</summary>
    /// <param name="geometry">The geometry.</param>
    /// <returns>The device and the mounted volume.</returns>
    public static (FlashSimulator Device, FlashFileSystem Fs) Fresh(FlashGeometry geometry)
    {
        var device = NewDevice(geometry);
        FlashFileSystem.Format(device);
        return (device, FlashFileSystem.Mount(device));
    }

    /// <summary>Runs the given workloads in order; one that fails is recorded and the rest still run.</summary>
    /// <param name="ids">Workload ids (RAW, W1 … W9M).</param>
    /// <returns>True when every workload ran and read back intact.</returns>
    public bool Run(IReadOnlyList<string> ids)
    {
        bool ok = true;
        for (int i = 0; i < ids.Count; i++)
        {
            string id = ids[i];
            _progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{i + 1}/{ids.Count}] {id}: {Describe(id)} ..."));
            var sw = Stopwatch.StartNew();
            int before = _results.Failures.Count;
            try
            {
                switch (id)
                {
                    case "RAW": Raw(); break;
                    case "W1": W1(keepForW2: ids.Contains("W2")); break;
                    case "W2": W2(); break;
                    case "W3": W3(); break;
                    case "W4": W4(); break;
                    case "W5": W5(); break;
                    case "W6": W6(); break;
                    case "W7": W7(); break;
                    case "W7F": W7F(); break;
                    case "W8": W8(); break;
                    case "W9": W9(maintain: false); break;
                    case "W9M": W9(maintain: true); break;
                    default: throw new InvalidOperationException($"Unknown workload '{id}'.");
                }
            }
#pragma warning disable CA1031 // A failing workload is recorded; the others still run.
            catch (Exception e)
#pragma warning restore CA1031
            {
                string where = e.StackTrace?.Split('\n').FirstOrDefault(l => l.Contains("Flash.Ffs", StringComparison.Ordinal))?.Trim() ?? "";
                _results.Failures.Add((id, $"{e.GetType().Name}: {e.Message} {where}".Trim()));
                _progress.WriteLine($"      {id} FAILED: {e}");
            }

            ok &= _results.Failures.Count == before;
            var mine = _results.Results.Where(r => r.Workload == id).Select(r => $"{r.Metric} {ResultsFile.Format(r.Metric, r.Value)}");
            _progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      {id} done in {sw.Elapsed.TotalSeconds:F1} s wall: {string.Join(", ", mine)}"));
            if (id != "W1")
            {
                // Drop finished devices (128 MiB each) before the next workload.
                GC.Collect();
            }
        }

        return ok;
    }

    /// <summary>
    /// Runs the given workloads (W1 too when W8 is among them, for its ratio) twice, scaled down on a 64-block device
    /// of the same page size, and discards the results, so that the measured runs execute jitted, tiered-up code
    /// (wall-clock figures otherwise include JIT warm-up; the simulated ones do not depend on it).
    /// </summary>
    /// <param name="ids">The workloads about to be measured.</param>
    public void WarmUp(IReadOnlyList<string> ids)
    {
        var sw = Stopwatch.StartNew();
        var g = _g.WithBlockCount(64);
        var warm = AllWorkloads.Where(id => ids.Contains(id) || (id == "W1" && ids.Contains("W8"))).ToArray();
        int round = 0;
        long compiled;
        do
        {
            compiled = JitInfo.GetCompiledMethodCount();
            var scratch = new WorkloadRunner(g, WorkloadScale.Small(g), new ResultsFile(), TextWriter.Null);
            scratch.Run(warm);
            WaitForJitQuiet();
            round++;
        }
        while (round < MinWarmUpRounds || (round < MaxWarmUpRounds && JitInfo.GetCompiledMethodCount() != compiled));

        _progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      warm-up ({string.Join(", ", warm)} scaled down, {round} rounds until a round jitted nothing new, not reported) took {sw.Elapsed.TotalSeconds:F1} s"));
    }

    private const int MinWarmUpRounds = 2;
    private const int MaxWarmUpRounds = 8;

    /// <summary>
    /// Waits until the runtime's background tier-1 compilation has been quiet for one interval (at most 5 s). A fixed
    /// 300 ms sleep was not enough on a loaded host: the first timed W1 pass then ran partly unoptimised code and took
    /// 5-10 times the CPU of the next two.
    /// </summary>
    private static void WaitForJitQuiet()
    {
        var deadline = Stopwatch.StartNew();
        long before;
        do
        {
            before = JitInfo.GetCompiledMethodCount();
            Thread.Sleep(200);
        }
        while (JitInfo.GetCompiledMethodCount() != before && deadline.Elapsed < TimeSpan.FromSeconds(5));
    }

    private string Describe(string id)
    {
        var s = _s;
        return id switch
        {
            "RAW" => $"program and read every page of {s.RawBlocks} blocks, no file system",
            "W1" => $"sequential write, {s.W1Files} files x {s.W1FileBytes >> 10} KiB in {Io} B calls",
            "W2" => $"unmount, mount, first write, read and verify the {s.W1Files} files of W1",
            "W3" => $"small files, {s.W3Directories} dirs x {s.W3FilesPerDirectory} files x {s.W3FileBytes} B",
            "W4" => $"random overwrite, fill {s.W4Files} files x {s.W4FileBytes >> 10} KiB, {s.W4Overwrites} durable {Io} B overwrites",
            "W5" => $"hot and cold, {s.W5ColdFiles} files x {s.W5ColdFileBytes >> 10} KiB, rewrite {s.W5HotFileBytes >> 10} KiB {s.W5Rewrites} times",
            "W6" => "W4 with a power cut in its overwrite phase, mount, first write, verify",
            "W7" => $"{s.W7Directories} dirs x {s.W7FilesPerDirectory} files x {s.SmallFileBytes} B on {s.W7Blocks} blocks, clean remount; again with a power cut at 75 %",
            "W7F" => $"{s.SmallFileBytes} B files, {s.W7FFilesPerDirectory} per dir, until no space",
            "W8" => $"fill half of {s.W8Blocks} blocks with {s.W8FileBytes >> 10} KiB files ({WallPasses.Count} passes), clean remount; again with a power cut at 75 %",
            "W9" => $"W4's files, {s.W9Overwrites} durable {Io} B overwrites",
            "W9M" => $"W9 with Maintain({s.W9MaintainBudget.TotalMilliseconds} ms) between operations",
            _ => "?",
        };
    }

    /// <summary>
    /// RAW: the simulator alone. Every block is erased before each pass, so programs land in memory the simulator
    /// already owns (as they do on a formatted volume) and the figure is a real ceiling for the file system's, not a
    /// measure of first-touch copies; a first pass warms up and is not reported; the median of the others is.
    /// </summary>
    private void Raw()
    {
        const string w = "RAW";
        var data = new byte[_g.PageSize];
        Payload.Fill(data.AsSpan(0, Math.Min(data.Length, 1 << 16)), 0, 0, 0);
        int pages = _s.RawBlocks * _g.PagesPerBlock;
        long bytes = (long)pages * _g.PageSize;
        var programWall = new double[WallPasses.Count];
        var readWall = new double[WallPasses.Count];
        FlashCounters programSim = default, readSim = default;
        using var device = NewDevice(_g);
        for (int pass = -1; pass < WallPasses.Count; pass++)
        {
            for (int b = 0; b < _s.RawBlocks; b++)
            {
                device.Erase(b);
            }

            var c0 = device.Statistics.Capture();
            var sw = Stopwatch.StartNew();
            for (int p = 0; p < pages; p++)
            {
                device.Program(p, data, default);
            }

            sw.Stop();
            programSim = device.Statistics.Capture() - c0;
            double program = Mbps(bytes, sw.Elapsed);

            c0 = device.Statistics.Capture();
            sw.Restart();
            for (int p = 0; p < pages; p++)
            {
                device.Read(p, data, default);
            }

            sw.Stop();
            readSim = device.Statistics.Capture() - c0;
            if (pass >= 0)
            {
                programWall[pass] = program;
                readWall[pass] = Mbps(bytes, sw.Elapsed);
            }
        }

        WallPasses.Report(_results, w, "program_wall_mbps", programWall);
        _results.Add(w, "sim_mbps", SimMbps(bytes, programSim));
        WallPasses.Report(_results, w, "read_wall_mbps", readWall);
        _results.Add(w, "read_sim_mbps", SimMbps(bytes, readSim));
    }

    private void W1(bool keepForW2)
    {
        const string w = "W1";
        long payload = (long)_s.W1Files * _s.W1FileBytes;
        var wall = new double[WallPasses.Count];
        var cpu = new double[WallPasses.Count];
        var costs = new string[WallPasses.Count];
        FlashSimulator device = null!;
        FlashFileSystem fs = null!;
        FlashCounters d = default;
        for (int pass = 0; pass < WallPasses.Count; pass++)
        {
            // A fresh formatted device each pass: format erased (and so touched) every block, as RAW's passes do.
            (device, fs) = Fresh(_g);
            QuietHeap();
            var c0 = device.Statistics.Capture();
            var clock = CpuClock.Start();
            var sw = Stopwatch.StartNew();
            for (int f = 0; f < _s.W1Files; f++)
            {
                WriteFile(fs, W1Path(f), f, _s.W1FileBytes);
            }

            sw.Stop();
            cpu[pass] = Mbps(payload, clock.Elapsed);
            costs[pass] = clock.Describe(payload / _g.PageSize);
            d = device.Statistics.Capture() - c0;
            wall[pass] = Mbps(payload, sw.Elapsed);
            if (pass < WallPasses.Count - 1)
            {
                device.Dispose();
            }
        }

        _results.Add(w, "sim_mbps", SimMbps(payload, d));
        _w1WallMbps = WallPasses.Report(_results, w, "wall_mbps", wall);
        _w1CpuMbps = WallPasses.Report(_results, w, "cpu_mbps", cpu);
        _results.Notes.Add((w, "host cost of the passes: " + string.Join("; ", costs)));
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / payload);
        _results.Add(w, "erases", d.BlockErases);
        _results.Add(w, "ram_bytes", fs.GetStatistics().RamBytes);
        _afterW1 = keepForW2 ? (device, fs) : null;
    }

    /// <summary>
    /// Collects before a timed pass, so that the garbage of the pass before (a disposed device is 128 MiB to 2 GiB of
    /// arrays) and of the format is not collected inside the timing: a W1 pass is some tens of milliseconds, and one
    /// full collection in it moved the figure by half (spread 0.2–0.8 before this).
    /// </summary>
    private static void QuietHeap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private void W2()
    {
        const string w = "W2";
        if (_afterW1 is null)
        {
            _progress.WriteLine("      (running W1 first, not reported)");
            var scratch = new WorkloadRunner(_g, _s, new ResultsFile(), TextWriter.Null);
            scratch.W1(keepForW2: true);
            _afterW1 = scratch._afterW1;
        }

        var (device, fs) = _afterW1!.Value;
        _afterW1 = null;
        fs.Unmount();

        fs = MeasureMount(w, device);

        _results.Add(w, "first_write_sim_ms", FirstWrite(device, fs, "/w2-first-write.bin", 9_000));

        // Read every file back in 4 KiB calls; the wall clock runs only around the file-system calls.
        long payload = (long)_s.W1Files * _s.W1FileBytes;
        var problems = new List<string>();
        var c0 = device.Statistics.Capture();
        long ticks = 0;
        for (int f = 0; f < _s.W1Files; f++)
        {
            ticks += ReadAndVerify(fs, W1Path(f), f, _s.W1FileBytes, _ => 0, null, problems);
        }

        var d = device.Statistics.Capture() - c0;
        _results.Add(w, "read_wall_mbps", Mbps(payload, Stopwatch.GetElapsedTime(0, ticks)));
        _results.Add(w, "read_sim_mbps", SimMbps(payload, d));
        ReadAndVerify(fs, "/w2-first-write.bin", 9_000, Io, _ => 0, null, problems);
        Intact(w, problems);
        _results.Add(w, "ram_bytes", fs.GetStatistics().RamBytes);
    }

    private void W3()
    {
        const string w = "W3";
        var (device, fs) = Fresh(_g);
        int files = _s.W3Directories * _s.W3FilesPerDirectory;
        long payload = (long)files * _s.W3FileBytes;
        var buffer = new byte[_s.W3FileBytes];
        long maxOp = 0;
        var c0 = device.Statistics.Capture();
        var sw = Stopwatch.StartNew();
        for (int dir = 0; dir < _s.W3Directories; dir++)
        {
            fs.CreateDirectory(W3Dir(dir));
            for (int f = 0; f < _s.W3FilesPerDirectory; f++)
            {
                int id = (dir * _s.W3FilesPerDirectory) + f;
                Payload.Fill(buffer, id, 0, 0);
                long t0 = device.Statistics.SimulatedNanoseconds;
                using (var file = fs.Open(W3Path(dir, f), FlashFileMode.CreateNew))
                {
                    file.Write(buffer);
                }

                maxOp = Math.Max(maxOp, device.Statistics.SimulatedNanoseconds - t0);
            }
        }

        sw.Stop();
        var d = device.Statistics.Capture() - c0;
        _results.Add(w, "files_per_s_sim", files / (d.SimulatedNanoseconds / 1e9));
        _results.Add(w, "files_per_s_wall", files / sw.Elapsed.TotalSeconds);
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / payload);
        _results.Add(w, "erases", d.BlockErases);
        _results.Add(w, "max_op_sim_ms", maxOp / 1e6);
        _results.Add(w, "ram_bytes", fs.GetStatistics().RamBytes);

        // Not a metric, but a file system that loses small files should not get a files/s figure unnoticed.
        var problems = new List<string>();
        for (int dir = 0; dir < _s.W3Directories; dir++)
        {
            for (int f = 0; f < _s.W3FilesPerDirectory; f++)
            {
                int id = (dir * _s.W3FilesPerDirectory) + f;
                Payload.Fill(buffer, id, 0, 0);
                var got = fs.ReadAllBytes(W3Path(dir, f));
                if (!got.AsSpan().SequenceEqual(buffer))
                {
                    problems.Add($"{W3Path(dir, f)} reads back wrong ({got.Length} B)");
                }
            }
        }

        Check(w, problems);
    }
}

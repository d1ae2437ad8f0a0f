using System.Diagnostics;
using System.Globalization;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// Runs the raw-device reference (RAW) and the reference workloads W1–W6 of WORKLOADS.md on the RAM simulator,
/// each from a freshly formatted device (format and the mount after it not counted), and records the documented
/// metrics. Simulated figures come from the device's own counters and are the same on every run.
/// </summary>
internal sealed class WorkloadRunner
{
    /// <summary>Every workload id, in run order.</summary>
    public static readonly string[] AllWorkloads = ["RAW", "W1", "W2", "W3", "W4", "W5", "W6"];

    /// <summary>Mounts and records mount_wall_ms and mount_sim_ms (W2, W6).</summary>
    private FlashFileSystem MeasureMount(string w, FlashSimulator device)
    {
        var c0 = device.Statistics.Capture();
        var sw = Stopwatch.StartNew();
        var fs = FlashFileSystem.Mount(device);
        sw.Stop();
        _results.Add(w, "mount_wall_ms", sw.Elapsed.TotalMilliseconds);
        var d = device.Statistics.Capture() - c0;
        _results.Add(w, "mount_sim_ms", d.SimulatedMilliseconds);
        _results.Notes.Add((w, string.Create(CultureInfo.InvariantCulture, $"mount: {d.PageReads} page reads, {d.PagePrograms} page programs, {d.BlockErases} erases")));
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
    /// <param name="ids">Workload ids (RAW, W1 … W6).</param>
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
    /// Runs RAW and W1–W6 once, scaled down on a 64-block device of the same page size, and discards the results, so
    /// that the measured runs execute jitted, tiered-up code (wall-clock figures otherwise include JIT warm-up; the
    /// simulated ones do not depend on it).
    /// </summary>
    public void WarmUp()
    {
        var sw = Stopwatch.StartNew();
        var g = _g.WithBlockCount(64);
        for (int round = 0; round < 2; round++)
        {
            var scratch = new WorkloadRunner(g, WorkloadScale.Small(g), new ResultsFile(), TextWriter.Null);
            scratch.Run(AllWorkloads);
        }

        // Let the runtime's background tier-1 compilation catch up.
        Thread.Sleep(300);
        _progress.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      warm-up (all workloads scaled down, twice, not reported) took {sw.Elapsed.TotalSeconds:F1} s"));
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
            _ => "?",
        };
    }

    /// <summary>Wall-clock figures are the best of this many passes in the same process: the host is shared and noisy.</summary>
    private const int WallPasses = 3;

    private void Raw()
    {
        const string w = "RAW";
        var data = new byte[_g.PageSize];
        Payload.Fill(data.AsSpan(0, Math.Min(data.Length, 1 << 16)), 0, 0, 0);
        int pages = _s.RawBlocks * _g.PagesPerBlock;
        long bytes = (long)pages * _g.PageSize;
        double programWall = 0, readWall = 0;
        FlashCounters programSim = default, readSim = default;
        for (int pass = 0; pass < WallPasses; pass++)
        {
            var device = NewDevice(_g);
            var c0 = device.Statistics.Capture();
            var sw = Stopwatch.StartNew();
            for (int p = 0; p < pages; p++)
            {
                device.Program(p, data, default);
            }

            sw.Stop();
            programSim = device.Statistics.Capture() - c0;
            programWall = Math.Max(programWall, Mbps(bytes, sw.Elapsed));

            c0 = device.Statistics.Capture();
            sw.Restart();
            for (int p = 0; p < pages; p++)
            {
                device.Read(p, data, default);
            }

            sw.Stop();
            readSim = device.Statistics.Capture() - c0;
            readWall = Math.Max(readWall, Mbps(bytes, sw.Elapsed));
            device.Dispose();
        }

        _results.Add(w, "program_wall_mbps", programWall);
        _results.Add(w, "sim_mbps", SimMbps(bytes, programSim));
        _results.Add(w, "read_wall_mbps", readWall);
        _results.Add(w, "read_sim_mbps", SimMbps(bytes, readSim));
    }

    private void W1(bool keepForW2)
    {
        const string w = "W1";
        long payload = (long)_s.W1Files * _s.W1FileBytes;
        double wall = 0;
        FlashSimulator device = null!;
        FlashFileSystem fs = null!;
        FlashCounters d = default;
        for (int pass = 0; pass < WallPasses; pass++)
        {
            (device, fs) = Fresh(_g);
            var c0 = device.Statistics.Capture();
            var sw = Stopwatch.StartNew();
            for (int f = 0; f < _s.W1Files; f++)
            {
                WriteFile(fs, W1Path(f), f, _s.W1FileBytes);
            }

            sw.Stop();
            d = device.Statistics.Capture() - c0;
            wall = Math.Max(wall, Mbps(payload, sw.Elapsed));
            if (pass < WallPasses - 1)
            {
                device.Dispose();
            }
        }

        _results.Add(w, "sim_mbps", SimMbps(payload, d));
        _results.Add(w, "wall_mbps", wall);
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / payload);
        _results.Add(w, "erases", d.BlockErases);
        _results.Add(w, "ram_bytes", fs.GetStatistics().RamBytes);
        _afterW1 = keepForW2 ? (device, fs) : null;
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

    private void W4()
    {
        const string w = "W4";
        var (device, fs) = Fresh(_g);
        var versions = FillW4(fs);
        int n = _s.W4Overwrites;
        var latency = new long[n];
        long first = device.MutationCount + 1;
        var c0 = device.Statistics.Capture();
        var sw = Stopwatch.StartNew();
        var rng = new Random(Seed);
        for (int i = 0; i < n; i++)
        {
            var (file, chunk) = NextOverwrite(rng);
            long t0 = device.Statistics.SimulatedNanoseconds;
            Overwrite(fs, file, chunk, ++versions[file][chunk]);
            latency[i] = device.Statistics.SimulatedNanoseconds - t0;
        }

        sw.Stop();
        var d = device.Statistics.Capture() - c0;
        _w4Mutations = (first, device.MutationCount);
        long payload = (long)n * Io;
        _results.Add(w, "ops_per_s_sim", n / (d.SimulatedNanoseconds / 1e9));
        _results.Add(w, "ops_per_s_wall", n / sw.Elapsed.TotalSeconds);
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / payload);
        _results.Add(w, "erases", d.BlockErases);
        Array.Sort(latency);
        _results.Add(w, "max_op_sim_ms", latency[^1] / 1e6);
        _results.Add(w, "p50_op_sim_ms", Percentile(latency, 0.50) / 1e6);
        _results.Add(w, "p99_op_sim_ms", Percentile(latency, 0.99) / 1e6);
        _results.Add(w, "ram_bytes", fs.GetStatistics().RamBytes);
        _results.Notes.Add((w, string.Create(
            CultureInfo.InvariantCulture,
            $"overwrite latency (simulated, per durable Open+Seek+Write+Flush+Close, n = {n}): min {latency[0] / 1e6:F3} ms, p50 {Percentile(latency, 0.50) / 1e6:F3} ms, p90 {Percentile(latency, 0.90) / 1e6:F3} ms, p99 {Percentile(latency, 0.99) / 1e6:F3} ms, p99.9 {Percentile(latency, 0.999) / 1e6:F3} ms, max {latency[^1] / 1e6:F3} ms, mean {latency.Average() / 1e6:F3} ms")));

        var problems = new List<string>();
        for (int f = 0; f < _s.W4Files; f++)
        {
            var v = versions[f];
            ReadAndVerify(fs, W4Path(f), f, _s.W4FileBytes, c => v[c], null, problems);
        }

        Check(w, problems);
    }

    private void W5()
    {
        const string w = "W5";
        var (device, fs) = Fresh(_g);
        const int hotId = 1_000;
        long payload = ((long)_s.W5ColdFiles * _s.W5ColdFileBytes) + ((long)_s.W5HotFileBytes * (_s.W5Rewrites + 1));
        var c0 = device.Statistics.Capture();
        var sw = Stopwatch.StartNew();
        for (int f = 0; f < _s.W5ColdFiles; f++)
        {
            WriteFile(fs, W5ColdPath(f), f, _s.W5ColdFileBytes);
        }

        WriteFile(fs, "/hot.bin", hotId, _s.W5HotFileBytes);
        // A durable 1 MiB rewrite is 512 page programs (128.6 ms) of its own, so the worst operation here is the worst
        // single call firmware makes (Open, each 4 KiB Write, the Dispose that makes the rewrite durable); the worst
        // whole rewrite is reported in the notes, with what it cost above its own programs.
        long maxOp = 0, maxRewrite = 0;
        long Call(long t0)
        {
            long now = device.Statistics.SimulatedNanoseconds;
            maxOp = Math.Max(maxOp, now - t0);
            return now;
        }

        for (int r = 1; r <= _s.W5Rewrites; r++)
        {
            long start = device.Statistics.SimulatedNanoseconds;
            var file = fs.Open("/hot.bin", FlashFileMode.Open);
            long t = Call(start);
            for (int off = 0; off < _s.W5HotFileBytes; off += Io)
            {
                Payload.Fill(_buffer, hotId, off, r);
                file.Write(_buffer);
                t = Call(t);
            }

            file.Dispose();
            Call(t);
            maxRewrite = Math.Max(maxRewrite, device.Statistics.SimulatedNanoseconds - start);
        }

        sw.Stop();
        var d = device.Statistics.Capture() - c0;

        // Wear over the whole life of the device, format included, from the device's own per-block counts.
        long min = long.MaxValue, max = 0, sum = 0;
        int good = 0;
        for (int b = 0; b < _g.BlockCount; b++)
        {
            if (device.IsBad(b))
            {
                continue;
            }

            long e = device.Statistics.EraseCount(b);
            min = Math.Min(min, e);
            max = Math.Max(max, e);
            sum += e;
            good++;
        }

        double mean = (double)sum / good;
        int pagesPerRewrite = (int)(_s.W5HotFileBytes / _g.PageSize);
        long ownPrograms = pagesPerRewrite * device.Statistics.Timing.ProgramCost(_g.PageSize + _g.SpareSize);
        _results.Add(w, "wear_spread", max / mean);
        _results.Add(w, "erase_min", min);
        _results.Add(w, "erase_max", max);
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / payload);
        _results.Add(w, "erases", d.BlockErases);
        _results.Add(w, "sim_mbps", SimMbps(payload, d));
        _results.Add(w, "max_op_sim_ms", maxOp / 1e6);
        _results.Add(w, "ram_bytes", fs.GetStatistics().RamBytes);
        _results.Notes.Add((w, string.Create(CultureInfo.InvariantCulture, $"erase counts over {good} good blocks: min {min}, mean {mean:F2}, max {max}; max_op_sim_ms is the worst single call of the rewrite phase (Open, a 4 KiB Write, or the Dispose that makes a rewrite durable); the worst whole durable {_s.W5HotFileBytes >> 10} KiB rewrite took {maxRewrite / 1e6:F1} ms, {(maxRewrite - ownPrograms) / 1e6:F1} ms above its own {pagesPerRewrite} page programs")));

        var problems = new List<string>();
        ReadAndVerify(fs, "/hot.bin", hotId, _s.W5HotFileBytes, _ => _s.W5Rewrites, null, problems);
        for (int f = 0; f < _s.W5ColdFiles; f++)
        {
            ReadAndVerify(fs, W5ColdPath(f), f, _s.W5ColdFileBytes, _ => 0, null, problems);
        }

        Check(w, problems);
    }

    private void W6()
    {
        const string w = "W6";
        if (_w4Mutations is null)
        {
            // Dry run of W4 (deterministic, so the same mutations as the real one) to find the overwrite phase's range.
            _progress.WriteLine("      (dry run of W4 to count the overwrite phase's program/erase operations)");
            var scratch = new WorkloadRunner(_g, _s, new ResultsFile(), TextWriter.Null);
            scratch.W4();
            _w4Mutations = scratch._w4Mutations;
        }

        var (first, last) = _w4Mutations!.Value;
        long cutAt = first + new Random(Seed).NextInt64(last - first + 1);

        var (device, fs) = Fresh(_g);
        var versions = FillW4(fs);
        device.CutPowerAtMutation(cutAt);
        var rng = new Random(Seed);
        (int File, int Chunk, int Old, int New)? inFlight = null;
        int acknowledged = 0;
        for (int i = 0; i < _s.W4Overwrites; i++)
        {
            var (file, chunk) = NextOverwrite(rng);
            int old = versions[file][chunk];
            try
            {
                Overwrite(fs, file, chunk, old + 1);
            }
            catch (Exception) when (!device.IsPowered)
            {
                inFlight = (file, chunk, old, old + 1);
                break;
            }

            versions[file][chunk] = old + 1;
            acknowledged++;
        }

        if (inFlight is null)
        {
            throw new InvalidOperationException($"The power cut at mutation {cutAt} (overwrite phase {first}..{last} in the dry run) never happened: the run is not deterministic.");
        }

        // The old volume object is dead with the power; a real device would reboot.
        device.CancelPowerCut();
        device.PowerUp();

        fs = MeasureMount(w, device);
        _results.Add(w, "first_write_sim_ms", FirstWrite(device, fs, "/w6-first-write.bin", 9_000));

        var problems = new List<string>();
        var fl = inFlight.Value;
        string interrupted = "";
        for (int f = 0; f < _s.W4Files; f++)
        {
            var v = versions[f];
            var alt = f == fl.File ? (fl.Chunk, fl.New) : ((int, int)?)null;
            string outcome = ReadAndVerifyOutcome(fs, W4Path(f), f, _s.W4FileBytes, c => v[c], alt, problems);
            if (f == fl.File)
            {
                interrupted = outcome;
            }
        }

        ReadAndVerify(fs, "/w6-first-write.bin", 9_000, Io, _ => 0, null, problems);
        Intact(w, problems);
        _results.Add(w, "ram_bytes", fs.GetStatistics().RamBytes);
        _results.Notes.Add((w, string.Create(
            CultureInfo.InvariantCulture,
            $"power cut at program/erase #{cutAt} (overwrite phase: #{first}..#{last}), during overwrite {acknowledged + 1} of {_s.W4Overwrites} ({W4Path(fl.File)} @ {(long)fl.Chunk * Io}); {acknowledged} acknowledged overwrites checked, the interrupted one read back {interrupted}")));
    }

    // ---- workload pieces (also used by the BenchmarkDotNet suite) ----

    /// <summary>Writes a new file in 4 KiB calls and closes it (durable).</summary>
    /// <param name="fs">The volume.</param>
    /// <param name="path">The path.</param>
    /// <param name="id">The file's content id.</param>
    /// <param name="bytes">Its length (a multiple of 4 KiB).</param>
    public void WriteFile(FlashFileSystem fs, string path, int id, int bytes)
    {
        using var file = fs.Open(path, FlashFileMode.CreateNew);
        for (int off = 0; off < bytes; off += Io)
        {
            Payload.Fill(_buffer, id, off, 0);
            file.Write(_buffer);
        }
    }

    /// <summary>W4's fill phase: the files, written in 4 KiB calls, each closed.</summary>
    /// <param name="fs">The volume.</param>
    /// <returns>The version model: per file, per 4 KiB chunk, how often it was overwritten.</returns>
    public int[][] FillW4(FlashFileSystem fs)
    {
        var versions = new int[_s.W4Files][];
        for (int f = 0; f < _s.W4Files; f++)
        {
            WriteFile(fs, W4Path(f), f, _s.W4FileBytes);
            versions[f] = new int[_s.W4FileBytes / Io];
        }

        return versions;
    }

    /// <summary>W4's random choice: a file, then a 4 KiB-aligned chunk in it.</summary>
    /// <param name="rng">The generator (seeded 42).</param>
    /// <returns>The file and chunk.</returns>
    public (int File, int Chunk) NextOverwrite(Random rng)
    {
        int file = rng.Next(_s.W4Files);
        int chunk = rng.Next(_s.W4FileBytes / Io);
        return (file, chunk);
    }

    /// <summary>One durable W4 overwrite: Open, Seek, Write 4 KiB, Flush, Close.</summary>
    /// <param name="fs">The volume.</param>
    /// <param name="file">The file number.</param>
    /// <param name="chunk">The 4 KiB chunk.</param>
    /// <param name="version">The new version of the chunk.</param>
    public void Overwrite(FlashFileSystem fs, int file, int chunk, int version)
    {
        long offset = (long)chunk * Io;
        Payload.Fill(_buffer, file, offset, version);
        var handle = fs.Open(W4Path(file), FlashFileMode.Open);
        handle.Seek(offset, SeekOrigin.Begin);
        handle.Write(_buffer);
        handle.Flush();
        handle.Dispose();
    }

    /// <summary>W4's file names.</summary>
    /// <param name="f">File number.</param>
    /// <returns>The path.</returns>
    public static string W4Path(int f) => string.Create(CultureInfo.InvariantCulture, $"/r{f:D3}.bin");

    private static string W1Path(int f) => string.Create(CultureInfo.InvariantCulture, $"/f{f:D3}.bin");

    private static string W3Dir(int d) => string.Create(CultureInfo.InvariantCulture, $"/d{d:D2}");

    private static string W3Path(int d, int f) => string.Create(CultureInfo.InvariantCulture, $"/d{d:D2}/s{f:D3}.txt");

    private static string W5ColdPath(int f) => string.Create(CultureInfo.InvariantCulture, $"/cold{f:D2}.bin");

    private double FirstWrite(FlashSimulator device, FlashFileSystem fs, string path, int id)
    {
        long t0 = device.Statistics.SimulatedNanoseconds;
        WriteFile(fs, path, id, Io);
        return (device.Statistics.SimulatedNanoseconds - t0) / 1e6;
    }

    private long ReadAndVerify(FlashFileSystem fs, string path, int id, int bytes, Func<int, int> version, (int Chunk, int Version)? alternative, List<string> problems)
    {
        long ticks = 0;
        ReadAndVerifyCore(fs, path, id, bytes, version, alternative, problems, ref ticks);
        return ticks;
    }

    private string ReadAndVerifyOutcome(FlashFileSystem fs, string path, int id, int bytes, Func<int, int> version, (int Chunk, int Version)? alternative, List<string> problems)
    {
        long ticks = 0;
        return ReadAndVerifyCore(fs, path, id, bytes, version, alternative, problems, ref ticks);
    }

    /// <summary>
    /// Reads a file in 4 KiB calls and compares every byte with the model. The chunk of <paramref name="alternative"/>
    /// (an interrupted write) may hold either version, page by page.
    /// </summary>
    private string ReadAndVerifyCore(FlashFileSystem fs, string path, int id, int bytes, Func<int, int> version, (int Chunk, int Version)? alternative, List<string> problems, ref long ticks)
    {
        string outcome = "";
        int bad = 0;
        long start = Stopwatch.GetTimestamp();
        var file = fs.OpenRead(path);
        ticks += Stopwatch.GetTimestamp() - start;
        try
        {
            if (file.Length != bytes)
            {
                problems.Add($"{path}: length {file.Length}, expected {bytes}");
            }

            for (int off = 0, chunk = 0; off < bytes; off += Io, chunk++)
            {
                start = Stopwatch.GetTimestamp();
                int n = file.Read(_buffer);
                ticks += Stopwatch.GetTimestamp() - start;
                Payload.Fill(_expected, id, off, version(chunk));
                if (alternative is { } alt && alt.Chunk == chunk)
                {
                    outcome = Interrupted(n, id, off, alt.Version);
                    if (outcome == "garbage")
                    {
                        problems.Add($"{path} @ {off}: the interrupted write's range holds neither the old nor the new data");
                    }

                    continue;
                }

                if (n != Io || !_buffer.AsSpan().SequenceEqual(_expected))
                {
                    if (bad++ < 3)
                    {
                        problems.Add($"{path} @ {off}: {(n != Io ? $"short read {n} B" : "wrong data")} (expected version {version(chunk)})");
                    }
                }
            }
        }
        finally
        {
            start = Stopwatch.GetTimestamp();
            file.Dispose();
            ticks += Stopwatch.GetTimestamp() - start;
        }

        return outcome;
    }

    private string Interrupted(int n, int id, long off, int newVersion)
    {
        if (n != Io)
        {
            return "garbage";
        }

        // _expected holds the old version.
        var fresh = new byte[Io];
        Payload.Fill(fresh, id, off, newVersion);
        if (_buffer.AsSpan().SequenceEqual(_expected))
        {
            return "old";
        }

        if (_buffer.AsSpan().SequenceEqual(fresh))
        {
            return "new";
        }

        int page = Math.Min(_g.PageSize, Io);
        for (int p = 0; p < Io; p += page)
        {
            var got = _buffer.AsSpan(p, page);
            if (!got.SequenceEqual(_expected.AsSpan(p, page)) && !got.SequenceEqual(fresh.AsSpan(p, page)))
            {
                return "garbage";
            }
        }

        return "torn (each page old or new)";
    }

    private void Intact(string workload, List<string> problems)
    {
        _results.Add(workload, "intact", problems.Count == 0 ? 1 : 0);
        Check(workload, problems);
    }

    private void Check(string workload, List<string> problems)
    {
        if (problems.Count > 0)
        {
            _results.Failures.Add((workload, $"{problems.Count} problem(s) reading back: {string.Join("; ", problems.Take(5))}"));
        }
    }

    private static long Percentile(long[] sorted, double q) => sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Mbps(long bytes, TimeSpan elapsed) => bytes / elapsed.TotalSeconds / 1e6;

    private static double SimMbps(long bytes, FlashCounters d) => bytes * 1e3 / d.SimulatedNanoseconds;
}

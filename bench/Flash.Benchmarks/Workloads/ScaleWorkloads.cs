using System.Diagnostics;
using System.Globalization;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// W7 (many small files on 512 MiB), W7F (small-file capacity of the reference device) and W8 (a 2 GiB device half
/// filled): how costs grow with the number of files and the size of the device. W7 and W8 each run twice: once to
/// measure (then a clean unmount and mount), and once more on a fresh device that loses power at the program/erase
/// 75 % of the way through the first run's, to measure the mount after the cut and verify what was acknowledged.
/// </summary>
internal sealed partial class WorkloadRunner
{
    /// <summary>Where in the first run's programs and erases the second run loses power.</summary>
    private const double CutFraction = 0.75;

    private void W7()
    {
        const string w = "W7";
        var g = _g.WithBlockCount(_s.W7Blocks);
        int files = _s.W7Directories * _s.W7FilesPerDirectory;
        long payload = (long)files * _s.SmallFileBytes;
        var (device, fs) = Fresh(g);
        long first = device.MutationCount + 1;
        var latency = new long[files];
        var c0 = device.Statistics.Capture();
        var sw = Stopwatch.StartNew();
        var (done, stop) = CreateSmallFiles(device, fs, _s.W7Directories, _s.W7FilesPerDirectory, latency);
        sw.Stop();
        if (stop is not null)
        {
            throw new InvalidOperationException($"W7 stopped after {done} of {files} files.", stop);
        }

        var d = device.Statistics.Capture() - c0;
        long last = device.MutationCount;
        Array.Sort(latency);
        _results.Add(w, "files", files);
        _results.Add(w, "files_per_s_sim", files / (d.SimulatedNanoseconds / 1e9));
        _results.Add(w, "files_per_s_wall", files / sw.Elapsed.TotalSeconds);
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / payload);
        _results.Add(w, "erases", d.BlockErases);
        _results.Add(w, "p99_op_sim_ms", Percentile(latency, 0.99) / 1e6);
        _results.Add(w, "max_op_sim_ms", latency[^1] / 1e6);
        long ram = fs.GetStatistics().RamBytes;
        _results.Add(w, "ram_bytes", ram);
        _results.Add(w, "ram_bytes_per_file", (double)ram / files);
        _results.Add(w, "checkpoint_bytes", UnmountMeasuringCheckpoint(device, fs));

        fs = MeasureMount(w, device);
        _results.Add(w, "first_write_sim_ms", FirstWrite(device, fs, "/w7-first-write.bin", FirstWriteId));
        var problems = new List<string>();
        VerifySmallFiles(fs, files, _s.W7FilesPerDirectory, problems);
        Check(w, problems);
        device.Dispose();
        GC.Collect();

        long cutAt = first + (long)((last - first) * CutFraction);
        (device, fs) = Fresh(g);
        device.CutPowerAtMutation(cutAt);
        (done, stop) = CreateSmallFiles(device, fs, _s.W7Directories, _s.W7FilesPerDirectory, null);
        RequireCut(device, stop, cutAt);
        fs = MeasureMount(w, device, "mount_after_cut");
        _results.Add(w, "first_write_after_cut_sim_ms", FirstWrite(device, fs, "/w7-first-write.bin", FirstWriteId));
        VerifySmallFiles(fs, done, _s.W7FilesPerDirectory, problems);
        string interrupted = SmallFileOutcome(fs, done, _s.W7FilesPerDirectory, problems);
        Intact(w, problems);
        _results.Notes.Add((w, string.Create(CultureInfo.InvariantCulture, $"second run: power cut at program/erase #{cutAt} (first run #{first}..#{last}), while creating file {done + 1} of {files}; {done} acknowledged files checked, the interrupted one {interrupted}")));
        device.Dispose();
    }

    private void W7F()
    {
        const string w = "W7F";
        var (device, fs) = Fresh(_g);
        var c0 = device.Statistics.Capture();
        var (stored, stop) = CreateSmallFiles(device, fs, int.MaxValue, _s.W7FFilesPerDirectory, null);
        if (stop is not FlashNoSpaceException)
        {
            throw new InvalidOperationException($"W7F stopped after {stored} files without a FlashNoSpaceException.", stop);
        }

        var d = device.Statistics.Capture() - c0;
        _results.Add(w, "files", stored);
        _results.Add(w, "files_per_s_sim", stored / (d.SimulatedNanoseconds / 1e9));
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / ((long)stored * _s.SmallFileBytes));
        long ram = fs.GetStatistics().RamBytes;
        _results.Add(w, "ram_bytes", ram);
        _results.Add(w, "ram_bytes_per_file", (double)ram / stored);
        var problems = new List<string>();
        string interrupted = SmallFileOutcome(fs, stored, _s.W7FFilesPerDirectory, problems);

        // A full volume must still unmount cleanly and mount without a recovery.
        string unmount = "clean";
        try
        {
            fs.Unmount();
        }
        catch (FlashFileSystemException e)
        {
            unmount = $"failed ({e.GetType().Name}: {e.Message})";
        }

        fs = MeasureMount(w, device);
        VerifySmallFiles(fs, stored, _s.W7FFilesPerDirectory, problems);
        Intact(w, problems);
        _results.Notes.Add((w, $"stopped by {stop.GetType().Name}: {stop.Message}; the file being created then {interrupted}; unmount of the full volume: {unmount}; the mount after it: {fs.MountReport}"));
    }

    private void W8()
    {
        const string w = "W8";
        var g = _g.WithBlockCount(_s.W8Blocks);
        int files = (int)(g.TotalBytes / 2 / _s.W8FileBytes);
        long payload = (long)files * _s.W8FileBytes;
        var wall = new double[WallPasses.Count];
        var cpu = new double[WallPasses.Count];
        var costs = new string[WallPasses.Count];
        FlashSimulator device = null!;
        FlashFileSystem fs = null!;
        FlashCounters d = default;
        long first = 0, last = 0;
        for (int pass = 0; pass < WallPasses.Count; pass++)
        {
            if (pass > 0)
            {
                // Drop the previous pass's device (2 GiB) before formatting the next one.
                device.Dispose();
                (device, fs) = (null!, null!);
                GC.Collect();
            }

            (device, fs) = Fresh(g);
            QuietHeap();
            first = device.MutationCount + 1;
            var c0 = device.Statistics.Capture();
            var clock = CpuClock.Start();
            var sw = Stopwatch.StartNew();
            for (int f = 0; f < files; f++)
            {
                WriteFile(fs, W8Path(f), f, _s.W8FileBytes);
            }

            sw.Stop();
            cpu[pass] = Mbps(payload, clock.Elapsed);
            costs[pass] = clock.Describe(payload / _g.PageSize);
            d = device.Statistics.Capture() - c0;
            last = device.MutationCount;
            wall[pass] = Mbps(payload, sw.Elapsed);
        }

        _results.Add(w, "files", files);
        _results.Add(w, "sim_mbps", SimMbps(payload, d));
        double median = WallPasses.Report(_results, w, "wall_mbps", wall);
        _results.Add(w, "wall_ratio_to_w1", median / W1WallMbps());
        double cpuMedian = WallPasses.Report(_results, w, "cpu_mbps", cpu);
        _results.Add(w, "cpu_ratio_to_w1", cpuMedian / _w1CpuMbps!.Value);
        _results.Notes.Add((w, "host cost of the passes: " + string.Join("; ", costs)));
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / payload);
        _results.Add(w, "erases", d.BlockErases);
        _results.Add(w, "ram_bytes", fs.GetStatistics().RamBytes);
        _results.Add(w, "ram_bytes_per_block", RamPerBlock(g));
        _results.Add(w, "checkpoint_bytes", UnmountMeasuringCheckpoint(device, fs));
        fs = MeasureMount(w, device);
        _results.Add(w, "first_write_sim_ms", FirstWrite(device, fs, "/w8-first-write.bin", FirstWriteId));
        var problems = new List<string>();
        for (int f = 0; f < files; f++)
        {
            ReadAndVerify(fs, W8Path(f), f, _s.W8FileBytes, _ => 0, null, problems);
        }

        Check(w, problems);
        device.Dispose();
        (device, fs) = (null!, null!);
        GC.Collect();

        long cutAt = first + (long)((last - first) * CutFraction);
        (device, fs) = Fresh(g);
        device.CutPowerAtMutation(cutAt);
        int acknowledged = 0;
        Exception? stop = null;
        try
        {
            for (; acknowledged < files; acknowledged++)
            {
                WriteFile(fs, W8Path(acknowledged), acknowledged, _s.W8FileBytes);
            }
        }
        catch (Exception e) when (!device.IsPowered)
        {
            stop = e;
        }

        RequireCut(device, stop, cutAt);
        fs = MeasureMount(w, device, "mount_after_cut");
        _results.Add(w, "first_write_after_cut_sim_ms", FirstWrite(device, fs, "/w8-first-write.bin", FirstWriteId));
        for (int f = 0; f < acknowledged; f++)
        {
            ReadAndVerify(fs, W8Path(f), f, _s.W8FileBytes, _ => 0, null, problems);
        }

        string interrupted = PrefixOutcome(fs, W8Path(acknowledged), acknowledged, _s.W8FileBytes, problems);
        Intact(w, problems);
        _results.Notes.Add((w, string.Create(CultureInfo.InvariantCulture, $"second run: power cut at program/erase #{cutAt} (first run #{first}..#{last}), while writing file {acknowledged + 1} of {files}; {acknowledged} acknowledged files checked, the interrupted one {interrupted}")));
        device.Dispose();
    }

    /// <summary>The content id of the file each first write after a mount creates.</summary>
    private const int FirstWriteId = 9_000;

    /// <summary>W1's wall MB/s in this run; when W1 did not run, a quiet run of W1 measures it.</summary>
    private double W1WallMbps()
    {
        if (_w1WallMbps is null)
        {
            _progress.WriteLine("      (running W1 for the wall-clock ratio, not reported)");
            var scratch = new WorkloadRunner(_g, _s, new ResultsFile(), TextWriter.Null);
            scratch.W1(keepForW2: false);
            _w1WallMbps = scratch._w1WallMbps;
            _w1CpuMbps = scratch._w1CpuMbps;
        }

        return _w1WallMbps!.Value;
    }

    /// <summary>Unmounts and returns the data bytes the unmount programmed: its checkpoint (and the anchor pointing at it).</summary>
    private static long UnmountMeasuringCheckpoint(FlashSimulator device, FlashFileSystem fs)
    {
        var c0 = device.Statistics.Capture();
        fs.Unmount();
        return (device.Statistics.Capture() - c0).DataBytesProgrammed;
    }

    /// <summary>Checks that the scheduled cut stopped the run, then powers the device up again as a reboot would.</summary>
    private static void RequireCut(FlashSimulator device, Exception? stop, long cutAt)
    {
        if (device.IsPowered || stop is null)
        {
            throw new InvalidOperationException($"The power cut at mutation {cutAt} never happened: the run is not deterministic.", stop);
        }

        device.CancelPowerCut();
        device.PowerUp();
    }

    /// <summary>
    /// Creates small files in order, a directory before each group, each created, written and closed (durable).
    /// Stops at a power cut or when the device is full; returns how many were acknowledged and what stopped it.
    /// </summary>
    private (int Acknowledged, Exception? Stop) CreateSmallFiles(FlashSimulator device, FlashFileSystem fs, int directories, int perDirectory, long[]? latency)
    {
        var buffer = new byte[_s.SmallFileBytes];
        int acknowledged = 0;
        try
        {
            for (int dir = 0; dir < directories; dir++)
            {
                fs.CreateDirectory(SmallDir(dir));
                for (int f = 0; f < perDirectory; f++)
                {
                    Payload.Fill(buffer, acknowledged, 0, 0);
                    long t0 = device.Statistics.SimulatedNanoseconds;
                    using (var file = fs.Open(SmallPath(acknowledged, perDirectory), FlashFileMode.CreateNew))
                    {
                        file.Write(buffer);
                    }

                    if (latency is not null)
                    {
                        latency[acknowledged] = device.Statistics.SimulatedNanoseconds - t0;
                    }

                    acknowledged++;
                }
            }
        }
        catch (Exception e) when (!device.IsPowered || e is FlashNoSpaceException)
        {
            return (acknowledged, e);
        }

        return (acknowledged, null);
    }

    private void VerifySmallFiles(FlashFileSystem fs, int count, int perDirectory, List<string> problems)
    {
        var expected = new byte[_s.SmallFileBytes];
        int bad = 0;
        for (int id = 0; id < count; id++)
        {
            Payload.Fill(expected, id, 0, 0);
            string path = SmallPath(id, perDirectory);
            byte[]? got = fs.Exists(path) ? fs.ReadAllBytes(path) : null;
            if ((got is null || !got.AsSpan().SequenceEqual(expected)) && bad++ < 3)
            {
                problems.Add($"{path} {(got is null ? "is missing" : $"reads back wrong ({got.Length} B)")}");
            }
        }

        if (bad > 3)
        {
            problems.Add($"{bad} small files missing or wrong in all");
        }
    }

    /// <summary>What became of the file being created when the run stopped: absent, empty or whole; anything else is a problem.</summary>
    private string SmallFileOutcome(FlashFileSystem fs, int id, int perDirectory, List<string> problems)
    {
        string path = SmallPath(id, perDirectory);
        if (!fs.Exists(path))
        {
            return "is absent";
        }

        var got = fs.ReadAllBytes(path);
        var expected = new byte[_s.SmallFileBytes];
        Payload.Fill(expected, id, 0, 0);
        if (got.Length == 0 || got.AsSpan().SequenceEqual(expected))
        {
            return got.Length == 0 ? "exists, empty" : "exists, whole";
        }

        problems.Add($"{path}, interrupted, holds {got.Length} B that are neither nothing nor its content");
        return "holds garbage";
    }

    /// <summary>What became of the large file being written when power failed: absent, or a correct prefix of its content.</summary>
    private string PrefixOutcome(FlashFileSystem fs, string path, int id, int bytes, List<string> problems)
    {
        if (!fs.Exists(path))
        {
            return "is absent";
        }

        using var file = fs.OpenRead(path);
        long length = file.Length;
        for (int off = 0; off < length && off < bytes; off += Io)
        {
            int n = file.Read(_buffer);
            Payload.Fill(_expected, id, off, 0);
            if (!_buffer.AsSpan(0, n).SequenceEqual(_expected.AsSpan(0, n)))
            {
                problems.Add($"{path}, interrupted, reads back wrong data at {off}");
                return "holds wrong data";
            }
        }

        return string.Create(CultureInfo.InvariantCulture, $"holds a correct prefix of {length} B");
    }

    private static string SmallDir(int d) => string.Create(CultureInfo.InvariantCulture, $"/d{d:D3}");

    private static string SmallPath(int id, int perDirectory)
        => string.Create(CultureInfo.InvariantCulture, $"/d{id / perDirectory:D3}/s{id % perDirectory:D4}.txt");

    /// <summary>
    /// RAM a block costs the mounted file system (issue 19: at most 8 B): the growth of RamBytes between freshly
    /// formatted volumes of the geometry's block count and half of it, over the blocks between. Both indexes hold only
    /// the root, so the figure is the block table and everything else sized by the block count, without the index.
    /// </summary>
    private static double RamPerBlock(FlashGeometry g)
    {
        var half = g.WithBlockCount(g.BlockCount / 2);
        long Ram(FlashGeometry geometry)
        {
            var (device, fs) = Fresh(geometry);
            long ram = fs.GetStatistics().RamBytes;
            fs.Unmount();
            device.Dispose();
            return ram;
        }

        return (double)(Ram(g) - Ram(half)) / (g.BlockCount - half.BlockCount);
    }

    private static string W8Path(int f) => string.Create(CultureInfo.InvariantCulture, $"/m{f:D4}.bin");
}

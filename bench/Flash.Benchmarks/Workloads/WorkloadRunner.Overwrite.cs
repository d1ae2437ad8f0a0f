using System.Diagnostics;
using System.Globalization;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Benchmarks.Workloads;

/// <summary>W4, W5 and W6, and the W4 pieces the BenchmarkDotNet suite and W9 share.</summary>
internal sealed partial class WorkloadRunner
{
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
        AddOverwritePhase(w, d, sw.Elapsed, latency, p999: false);
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

    /// <summary>The metrics of an overwrite phase (W4, W9, W9M): rates, WA, erases and the latency distribution (sorts <paramref name="latency"/>).</summary>
    private void AddOverwritePhase(string w, FlashCounters d, TimeSpan wall, long[] latency, bool p999)
    {
        int n = latency.Length;
        _results.Add(w, "ops_per_s_sim", n / (d.SimulatedNanoseconds / 1e9));
        _results.Add(w, "ops_per_s_wall", n / wall.TotalSeconds);
        _results.Add(w, "wa", (double)d.DataBytesProgrammed / ((long)n * Io));
        _results.Add(w, "erases", d.BlockErases);
        Array.Sort(latency);
        _results.Add(w, "max_op_sim_ms", latency[^1] / 1e6);
        _results.Add(w, "p50_op_sim_ms", Percentile(latency, 0.50) / 1e6);
        _results.Add(w, "p99_op_sim_ms", Percentile(latency, 0.99) / 1e6);
        if (p999)
        {
            _results.Add(w, "p999_op_sim_ms", Percentile(latency, 0.999) / 1e6);
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
}

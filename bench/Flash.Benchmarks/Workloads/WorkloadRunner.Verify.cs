using System.Diagnostics;
using System.Globalization;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Benchmarks.Workloads;

/// <summary>Writing files, reading them back against the model, and the arithmetic of the metrics.</summary>
internal sealed partial class WorkloadRunner
{
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

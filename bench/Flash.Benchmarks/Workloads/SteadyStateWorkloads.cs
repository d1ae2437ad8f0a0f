using System.Diagnostics;
using System.Globalization;
using Flash.Drivers;
using Flash.Ffs;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// W9: W4's files with many more overwrites, so garbage collection runs continuously; W9M: the same with
/// <see cref="FlashFileSystem.Maintain"/> between operations. Both report the latency distribution of the single
/// durable operations and the write amplification of the overwrite phase, which a greedy collector bounds below
/// at about (1 + r) / (2 r), r = free / used.
/// </summary>
internal sealed partial class WorkloadRunner
{
    private void W9(bool maintain)
    {
        string w = maintain ? "W9M" : "W9";
        var (device, fs) = Fresh(_g);
        var versions = FillW4(fs);
        int n = _s.W9Overwrites;
        var latency = new long[n];
        long maxMaintain = 0, maintainTotal = 0;
        var budget = new MaintenanceBudget(SimulatedTimeBudget: _s.W9MaintainBudget);
        var c0 = device.Statistics.Capture();
        var s0 = fs.GetStatistics();
        var g0 = fs.GcCounters;
        FlashCounters half = default;
        var sw = Stopwatch.StartNew();
        var rng = new Random(Seed);
        for (int i = 0; i < n; i++)
        {
            if (i == n / 2)
            {
                half = device.Statistics.Capture();
            }

            var (file, chunk) = NextOverwrite(rng);
            long t0 = device.Statistics.SimulatedNanoseconds;
            Overwrite(fs, file, chunk, ++versions[file][chunk]);
            long t1 = device.Statistics.SimulatedNanoseconds;
            latency[i] = t1 - t0;
            if (maintain)
            {
                fs.Maintain(budget);
                long spent = device.Statistics.SimulatedNanoseconds - t1;
                maxMaintain = Math.Max(maxMaintain, spent);
                maintainTotal += spent;
            }
        }

        sw.Stop();
        var end = device.Statistics.Capture();
        var d = end - c0;
        long payload = (long)n * Io;
        AddOverwritePhase(w, d, sw.Elapsed, latency, p999: true);
        if (maintain)
        {
            _results.Add(w, "max_maintain_sim_ms", maxMaintain / 1e6);
        }

        var stats = fs.GetStatistics();
        _results.Add(w, "ram_bytes", stats.RamBytes);
        double used = stats.UsedBytes, free = stats.CapacityBytes - stats.UsedBytes;
        double r = free / used;
        var second = end - half;

        // Page programs of the phase by cause: the payload's own pages, garbage collection's moves, and the rest
        // (checkpoints, anchors and the metadata of the commits), in pages and as their share of the WA.
        long gcPages = stats.GcPagesMoved - s0.GcPagesMoved;
        long ownPages = (payload + _g.PageSize - 1) / _g.PageSize;
        long otherPages = d.PagePrograms - ownPages - gcPages;
        AddWaSplit(w, fs, g0, ownPages, gcPages, otherPages);
        _results.Notes.Add((w, string.Create(
            CultureInfo.InvariantCulture,
            $"page programs {d.PagePrograms}: payload {ownPages}, GC moves {gcPages} ({(double)gcPages / ownPages:F3} of the payload), checkpoints and metadata {otherPages} ({(double)otherPages / ownPages:F3}); {stats.CheckpointsWritten - s0.CheckpointsWritten} checkpoints, {stats.GcBlocksReclaimed - s0.GcBlocksReclaimed} blocks reclaimed")));
        _results.Notes.Add((w, string.Create(
            CultureInfo.InvariantCulture,
            $"{n} overwrites; WA of the second half {(double)second.DataBytesProgrammed / (payload - ((long)(n / 2) * Io)):F3}; greedy floor (1 + r) / 2r = {(1 + r) / (2 * r):F2} at r = free / used = {r:F3} of the volume's own capacity; mean op {latency.Average() / 1e6:F3} ms{(maintain ? $", Maintain total {maintainTotal / 1e6:F1} ms" : "")}")));

        var problems = new List<string>();
        for (int f = 0; f < _s.W4Files; f++)
        {
            var v = versions[f];
            ReadAndVerify(fs, W4Path(f), f, _s.W4FileBytes, c => v[c], null, problems);
        }

        Check(w, problems);
    }

    /// <summary>
    /// W9's WA split by cause, per user page, and what a pure greedy collector would do at the same utilisation: the
    /// analytical large-block limit (<see cref="GreedyModel.FloorWa"/>) and a simulation over the same block and page
    /// counts (<see cref="GreedyModel.Simulate"/>). Both models count user pages and GC moves only, so they compare
    /// with 1 + gc_moves_per_user_page, not with wa (which has the checkpoints too).
    /// </summary>
    private void AddWaSplit(string w, FlashFileSystem fs, Flash.Ffs.Wear.GcCounters g0, long userPages, long gcPages, long otherPages)
    {
        var g = fs.GcCounters;
        var (live, dataBlocks, floor) = fs.GcSpace;
        double u = (double)live / ((long)dataBlocks * _g.PagesPerBlock);
        _results.Add(w, "user_pages", userPages);
        _results.Add(w, "gc_moves_per_user_page", (double)gcPages / userPages);
        _results.Add(w, "wear_moves_per_user_page", (double)(g.WearPagesMoved - g0.WearPagesMoved) / userPages);
        _results.Add(w, "scrub_moves_per_user_page", (double)(g.ScrubPagesMoved - g0.ScrubPagesMoved) / userPages);
        _results.Add(w, "checkpoint_pages_per_user_page", (double)otherPages / userPages);
        _results.Add(w, "utilisation_r", u);
        _results.Add(w, "greedy_floor_wa", GreedyModel.FloorWa(u));

        // The pages W9 overwrites at random are its files' (what the model's live pages are); the metadata pages
        // (inodes, directory) are counted in live, since they take room the same way.
        _results.Add(w, "greedy_model_wa", GreedyModel.Simulate(dataBlocks, _g.PagesPerBlock, (int)live, floor, userPages));
    }
}

using System.Diagnostics;
using System.Globalization;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// Process CPU time (user + kernel, every thread: the GC's and the JIT's too) around a timed pass, with what else the
/// pass cost the host: bytes this thread allocated, collections and (on Linux) minor page faults. On a host other
/// processes share, wall time counts the time this process waited for a core; its CPU time does not, so a pass's CPU
/// figure moves far less than its wall figure when the load changes (wall spreads of 0.5–1.0 were seen on W1 with
/// load averages of 4–25 on 2 cores). Both are reported: wall is what a user sees, CPU is what the code costs.
/// </summary>
internal readonly struct CpuClock
{
    private const string StatFile = "/proc/self/stat";

    private readonly TimeSpan _start;
    private readonly long _allocated;
    private readonly int _gen0;
    private readonly int _gen2;
    private readonly long _faults;

    private CpuClock(TimeSpan start, long allocated, int gen0, int gen2, long faults)
        => (_start, _allocated, _gen0, _gen2, _faults) = (start, allocated, gen0, gen2, faults);

    /// <summary>Starts measuring.</summary>
    /// <returns>The clock.</returns>
    public static CpuClock Start()
        => new(Now(), GC.GetAllocatedBytesForCurrentThread(), GC.CollectionCount(0), GC.CollectionCount(2), MinorFaults());

    /// <summary>Process CPU time since <see cref="Start"/>.</summary>
    public TimeSpan Elapsed => Now() - _start;

    /// <summary>What the pass cost besides CPU time, for a note: allocation, collections, page faults.</summary>
    /// <param name="pages">Pages the pass wrote (payload / page), to give the allocation per page.</param>
    /// <returns>One line.</returns>
    public string Describe(long pages)
    {
        long allocated = GC.GetAllocatedBytesForCurrentThread() - _allocated;
        long faults = MinorFaults() - _faults;
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{allocated / Math.Max(1, pages):N0} B allocated a page, {GC.CollectionCount(0) - _gen0} gen0 / {GC.CollectionCount(2) - _gen2} gen2 collections, {(faults < 0 ? "?" : faults.ToString("N0", CultureInfo.InvariantCulture))} minor page faults");
    }

    private static TimeSpan Now()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    // Field 10 of /proc/self/stat (after the parenthesised command name); -1 where there is no such file.
    private static long MinorFaults()
    {
        if (!File.Exists(StatFile))
        {
            return -1;
        }

        string stat = File.ReadAllText(StatFile);
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[7], CultureInfo.InvariantCulture);
    }
}

using System.Diagnostics;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// Process CPU time (user + kernel, every thread: the GC's and the JIT's too) around a timed pass. On a host other
/// processes share, wall time counts the time this process waited for a core; its CPU time does not, so a pass's CPU
/// figure moves far less than its wall figure when the load changes (wall spreads of 0.5–1.0 were seen on W1 with
/// load averages of 4–13 on 2 cores). Both are reported: wall is what a user sees, CPU is what the code costs.
/// </summary>
internal readonly struct CpuClock
{
    private readonly TimeSpan _start;

    private CpuClock(TimeSpan start) => _start = start;

    /// <summary>Starts measuring.</summary>
    /// <returns>The clock.</returns>
    public static CpuClock Start() => new(Now());

    /// <summary>Process CPU time since <see cref="Start"/>.</summary>
    public TimeSpan Elapsed => Now() - _start;

    private static TimeSpan Now()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}

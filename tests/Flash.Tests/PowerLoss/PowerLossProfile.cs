using System.Text;
using System.Text.Json;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// The power-loss suite's knobs, all from environment variables: the profile (<c>FLASH_TEST_PROFILE=exhaustive</c>),
/// the JSON report (<c>FLASH_POWERCUT_REPORT</c>) and the replay of one case (<c>FLASH_REPLAY_WORKLOAD</c>,
/// <c>FLASH_REPLAY_CUT</c>, <c>FLASH_REPLAY_SEED</c>, <c>FLASH_REPLAY_SECOND_CUT</c>).
/// </summary>
internal static class PowerLossProfile
{
    public static bool Exhaustive { get; } =
        string.Equals(Environment.GetEnvironmentVariable("FLASH_TEST_PROFILE"), "exhaustive", StringComparison.OrdinalIgnoreCase);

    /// <summary>Cut points tried per workload in the quick profile (every one in the exhaustive profile).</summary>
    public static int QuickCutsPerWorkload => 300;

    /// <summary>Mutated images mounted by the fuzz suite.</summary>
    public static int FuzzImages => Exhaustive ? 100_000 : 10_000;

    public static string? ReplayWorkload => Environment.GetEnvironmentVariable("FLASH_REPLAY_WORKLOAD") is { Length: > 0 } w ? w : null;

    public static long? ReplayCut => long.TryParse(Environment.GetEnvironmentVariable("FLASH_REPLAY_CUT"), out long v) ? v : null;

    public static ulong? ReplaySeed => ulong.TryParse(Environment.GetEnvironmentVariable("FLASH_REPLAY_SEED"), out ulong v) ? v : null;

    public static int? ReplaySecondCut => int.TryParse(Environment.GetEnvironmentVariable("FLASH_REPLAY_SECOND_CUT"), out int v) ? v : null;

    public static string ReplayCommand(string workload, long cut, ulong seed, int secondCut)
        => (Exhaustive ? "FLASH_TEST_PROFILE=exhaustive " : "") + $"FLASH_REPLAY_WORKLOAD={workload} FLASH_REPLAY_CUT={cut} FLASH_REPLAY_SEED={seed} FLASH_REPLAY_SECOND_CUT={secondCut} "
           + "dotnet test --project tests/Flash.Tests -- --filter-class Flash.Tests.PowerLoss.PowerCutSweepTests";

    /// <summary>A stable 64-bit mix (splitmix64) for per-case seeds.</summary>
    public static ulong Mix(ulong a, ulong b)
    {
        ulong z = a + (b * 0x9E3779B97F4A7C15UL) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public static ulong Hash(string s)
    {
        ulong h = 1469598103934665603UL;
        foreach (byte b in Encoding.UTF8.GetBytes(s))
        {
            h = (h ^ b) * 1099511628211UL;
        }

        return h;
    }
}

/// <summary>Collects the counts of every sweep and fuzz run and rewrites the JSON report after each update.</summary>
internal static class PowerCutReport
{
    private static readonly Lock s_lock = new();
    private static readonly SortedDictionary<string, (long Cuts, long Failures)> s_workloads = new(StringComparer.Ordinal);
    private static long s_fuzzed;
    private static long s_fuzzFailures;

    public static void AddWorkload(string name, long cuts, long failures)
    {
        lock (s_lock)
        {
            s_workloads.TryGetValue(name, out var old);
            s_workloads[name] = (old.Cuts + cuts, old.Failures + failures);
            Write();
        }
    }

    public static void AddFuzz(long images, long failures)
    {
        lock (s_lock)
        {
            s_fuzzed += images;
            s_fuzzFailures += failures;
            Write();
        }
    }

    private static void Write()
    {
        if (Environment.GetEnvironmentVariable("FLASH_POWERCUT_REPORT") is not { Length: > 0 } path)
        {
            return;
        }

        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("workloads");
            foreach (var (name, (cuts, failures)) in s_workloads)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteNumber("cut_points", cuts);
                w.WriteNumber("failures", failures);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteNumber("total_cut_points", s_workloads.Values.Sum(v => v.Cuts));
            w.WriteNumber("total_failures", s_workloads.Values.Sum(v => v.Failures));
            w.WriteNumber("fuzzed_images", s_fuzzed);
            w.WriteNumber("fuzz_failures", s_fuzzFailures);
            w.WriteEndObject();
        }

        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = full + ".tmp";
        File.WriteAllBytes(temp, stream.ToArray());
        File.Move(temp, full, overwrite: true);
    }
}

using System.Globalization;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// Wall-clock figures from several passes of the same work in one process. One pass on a shared host is noise, and
/// the best of several flatters the code, so the median is reported, with the spread (max − min) / median beside it
/// as <c>&lt;metric&gt;_spread</c> and every pass in a note.
/// </summary>
internal static class WallPasses
{
    /// <summary>Passes per wall-clock figure.</summary>
    public const int Count = 3;

    /// <summary>The suffix of the spread metric.</summary>
    public const string SpreadSuffix = "_spread";

    /// <summary>The median of the samples.</summary>
    /// <param name="samples">The passes' values.</param>
    /// <returns>The median (the upper one of an even count).</returns>
    public static double Median(IReadOnlyList<double> samples)
    {
        var sorted = samples.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>Records the median as <paramref name="metric"/> and the spread as its <c>_spread</c> metric.</summary>
    /// <param name="results">Where the metrics go.</param>
    /// <param name="workload">Workload id.</param>
    /// <param name="metric">The wall-clock metric.</param>
    /// <param name="samples">The passes' values.</param>
    /// <returns>The median.</returns>
    public static double Report(ResultsFile results, string workload, string metric, IReadOnlyList<double> samples)
    {
        var sorted = samples.Order().ToArray();
        double median = sorted[sorted.Length / 2];
        results.Add(workload, metric, median);
        results.Add(workload, metric + SpreadSuffix, median == 0 ? 0 : (sorted[^1] - sorted[0]) / median);
        var inv = CultureInfo.InvariantCulture;
        results.Notes.Add((workload, $"{metric} over {samples.Count} passes: {string.Join(", ", samples.Select(v => v.ToString("N1", inv)))} (median reported)"));
        return median;
    }
}

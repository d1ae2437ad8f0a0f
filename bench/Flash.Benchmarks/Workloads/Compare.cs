using System.Globalization;
using System.Text;

namespace Flash.Benchmarks.Workloads;

/// <summary>The <c>compare</c> subcommand: two workloads.json files side by side with ratios.</summary>
internal static class Compare
{
    /// <summary>Prints the comparison of a baseline and a candidate run.</summary>
    /// <param name="baselinePath">The older (baseline) workloads.json.</param>
    /// <param name="candidatePath">The newer (candidate) workloads.json.</param>
    /// <param name="threshold">Relative change below which a metric counts as unchanged (0.05 = 5 %).</param>
    /// <returns>The markdown text.</returns>
    public static string Run(string baselinePath, string candidatePath, double threshold)
    {
        var a = ResultsFile.Load(baselinePath);
        var b = ResultsFile.Load(candidatePath);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"A = {baselinePath}: {a.Date}, {a.Mode}, {a.Machine}, {a.DeviceText()}");
        sb.AppendLine(inv, $"B = {candidatePath}: {b.Date}, {b.Mode}, {b.Machine}, {b.DeviceText()}");
        if (a.Mode != b.Mode || a.Page != b.Page || a.Blocks != b.Blocks)
        {
            sb.AppendLine("warning: the two runs used different modes or devices; ratios are not meaningful.");
        }

        sb.AppendLine();
        sb.AppendLine("| workload | metric | A | B | B/A | |");
        sb.AppendLine("| --- | --- | ---: | ---: | ---: | --- |");
        var bValues = b.Results.ToDictionary(r => (r.Workload, r.Metric), r => r.Value);
        int better = 0, worse = 0;
        foreach (var r in a.Results)
        {
            if (!bValues.Remove((r.Workload, r.Metric), out double v))
            {
                sb.AppendLine(inv, $"| {r.Workload} | {r.Metric} | {ResultsFile.Format(r.Metric, r.Value)} | – | | only in A |");
                continue;
            }

            string ratio = r.Value == 0 ? (v == 0 ? "1.00" : "∞") : (v / r.Value).ToString("0.00", inv);
            string verdict = Verdict(r.Metric, r.Value, v, threshold);
            better += verdict == "better" ? 1 : 0;
            worse += verdict == "worse" ? 1 : 0;
            sb.AppendLine(inv, $"| {r.Workload} | {r.Metric} | {ResultsFile.Format(r.Metric, r.Value)} | {ResultsFile.Format(r.Metric, v)} | {ratio} | {verdict} |");
        }

        foreach (var r in b.Results.Where(r => bValues.ContainsKey((r.Workload, r.Metric))))
        {
            sb.AppendLine(inv, $"| {r.Workload} | {r.Metric} | – | {ResultsFile.Format(r.Metric, r.Value)} | | only in B |");
        }

        sb.AppendLine();
        sb.AppendLine(inv, $"{better} better, {worse} worse (changes under {threshold:P0} count as unchanged; wall-clock metrics are noisy, simulated ones exact).");
        return sb.ToString();
    }

    /// <summary>Whether a larger value of a metric is better.</summary>
    /// <param name="metric">The metric name.</param>
    /// <returns>True for throughputs, ratios to W1, capacity and intact; false for costs (WA, erases, times, RAM, wear, spreads).</returns>
    public static bool HigherIsBetter(string metric)
        => !metric.EndsWith(WallPasses.SpreadSuffix, StringComparison.Ordinal)
            && (metric.Contains("mbps", StringComparison.Ordinal) || metric.Contains("_per_s", StringComparison.Ordinal) || metric is "intact" or "erase_min" or "files" or "wall_ratio_to_w1" or "cpu_ratio_to_w1");

    private static string Verdict(string metric, double a, double b, double threshold)
    {
        if (a == b || (a != 0 && Math.Abs((b - a) / a) < threshold))
        {
            return "";
        }

        bool up = b > a;
        return up == HigherIsBetter(metric) ? "better" : "worse";
    }
}

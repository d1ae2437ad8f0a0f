using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Flash.Drivers;

namespace Flash.Benchmarks.Workloads;

/// <summary>One measured figure: workload id, metric name (WORKLOADS.md spelling) and value.</summary>
/// <param name="Workload">RAW, W1 … W9M.</param>
/// <param name="Metric">The metric name.</param>
/// <param name="Value">The value.</param>
internal readonly record struct MetricValue(string Workload, string Metric, double Value);

/// <summary>The results of one runner invocation, as written to and read from <c>workloads.json</c> (schema 1).</summary>
internal sealed class ResultsFile
{
    /// <summary>The schema version of WORKLOADS.md.</summary>
    public const int Schema = 1;

    /// <summary>Free text: cores, OS, runtime.</summary>
    public string Machine { get; set; } = DescribeMachine();

    /// <summary>When the run started (UTC, ISO 8601).</summary>
    public string Date { get; set; } = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>"full" for the reference workloads, "quick" for the scaled-down smoke set.</summary>
    public string Mode { get; set; } = "full";

    /// <summary>Page data bytes.</summary>
    public int Page { get; set; }

    /// <summary>Page spare bytes.</summary>
    public int Spare { get; set; }

    /// <summary>Pages per block.</summary>
    public int PagesPerBlock { get; set; }

    /// <summary>Blocks.</summary>
    public int Blocks { get; set; }

    /// <summary>The metrics, in the order measured.</summary>
    public List<MetricValue> Results { get; } = [];

    /// <summary>Readable remarks per workload (latency distribution, cut point, what was checked).</summary>
    public List<(string Workload, string Text)> Notes { get; } = [];

    /// <summary>Workloads that threw or read back wrong data, with the reason.</summary>
    public List<(string Workload, string Text)> Failures { get; } = [];

    /// <summary>Sets the device fields from a geometry.</summary>
    /// <param name="g">The geometry.</param>
    public void SetDevice(FlashGeometry g)
    {
        Page = g.PageSize;
        Spare = g.SpareSize;
        PagesPerBlock = g.PagesPerBlock;
        Blocks = g.BlockCount;
    }

    /// <summary>Adds a metric.</summary>
    /// <param name="workload">Workload id.</param>
    /// <param name="metric">Metric name.</param>
    /// <param name="value">Value.</param>
    public void Add(string workload, string metric, double value) => Results.Add(new MetricValue(workload, metric, value));

    /// <summary>A short machine description: cores, OS, runtime.</summary>
    /// <returns>The description.</returns>
    public static string DescribeMachine()
        => string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription.Trim()} {RuntimeInformation.OSArchitecture}, {RuntimeInformation.FrameworkDescription}");

    /// <summary>Serialises to the documented JSON format.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("schema", Schema);
            w.WriteString("machine", Machine);
            w.WriteString("date", Date);
            w.WriteString("mode", Mode);
            w.WriteStartObject("device");
            w.WriteNumber("page", Page);
            w.WriteNumber("spare", Spare);
            w.WriteNumber("pages_per_block", PagesPerBlock);
            w.WriteNumber("blocks", Blocks);
            w.WriteEndObject();
            w.WriteStartArray("results");
            foreach (var r in Results)
            {
                w.WriteStartObject();
                w.WriteString("workload", r.Workload);
                w.WriteString("metric", r.Metric);
                w.WriteNumber("value", Math.Round(r.Value, 4));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            WritePairs(w, "notes", Notes);
            WritePairs(w, "failures", Failures);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(ms.ToArray()) + "\n";
    }

    /// <summary>Reads a results file (only the fields this runner writes; unknown fields are ignored).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The results.</returns>
    public static ResultsFile Load(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        var file = new ResultsFile
        {
            Machine = root.TryGetProperty("machine", out var m) ? m.GetString() ?? "" : "",
            Date = root.TryGetProperty("date", out var d) ? d.GetString() ?? "" : "",
            Mode = root.TryGetProperty("mode", out var mo) ? mo.GetString() ?? "" : "",
        };
        if (root.TryGetProperty("device", out var dev))
        {
            file.Page = dev.TryGetProperty("page", out var p) ? p.GetInt32() : 0;
            file.Spare = dev.TryGetProperty("spare", out var s) ? s.GetInt32() : 0;
            file.PagesPerBlock = dev.TryGetProperty("pages_per_block", out var ppb) ? ppb.GetInt32() : 0;
            file.Blocks = dev.TryGetProperty("blocks", out var b) ? b.GetInt32() : 0;
        }

        foreach (var r in root.GetProperty("results").EnumerateArray())
        {
            file.Add(r.GetProperty("workload").GetString() ?? "", r.GetProperty("metric").GetString() ?? "", r.GetProperty("value").GetDouble());
        }

        return file;
    }

    /// <summary>The device as text.</summary>
    /// <returns>e.g. "1024 blocks x 64 pages x (2048+64) B".</returns>
    public string DeviceText()
        => string.Create(CultureInfo.InvariantCulture, $"{Blocks} blocks x {PagesPerBlock} pages x ({Page}+{Spare}) B = {(long)Blocks * PagesPerBlock * Page / (1 << 20)} MiB");

    /// <summary>The readable table (markdown).</summary>
    /// <returns>The markdown text.</returns>
    public string ToMarkdown()
    {
        var sb = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        sb.AppendLine(inv, $"Workload results ({Mode}), {Date}, {Machine}.");
        sb.AppendLine(inv, $"Device: {DeviceText()}. Simulated times follow the WORKLOADS.md timing model; wall-clock times are this machine's.");
        sb.AppendLine();
        sb.AppendLine("| workload | metric | value | littlefs |");
        sb.AppendLine("| --- | --- | ---: | ---: |");
        string last = "";
        foreach (var r in Results)
        {
            string w = r.Workload == last ? "" : r.Workload;
            last = r.Workload;
            string reference = Mode == "full" && Page == 2048 ? Reference.Littlefs(r.Workload, r.Metric) : "";
            sb.AppendLine(inv, $"| {w} | {r.Metric} | {Format(r.Metric, r.Value)} | {reference} |");
        }

        if (Notes.Count > 0)
        {
            sb.AppendLine();
            foreach (var (w, text) in Notes)
            {
                sb.AppendLine(inv, $"- {w}: {text}");
            }
        }

        if (Failures.Count > 0)
        {
            sb.AppendLine();
            sb.AppendLine("**Failures**");
            sb.AppendLine();
            foreach (var (w, text) in Failures)
            {
                sb.AppendLine(inv, $"- {w}: {text}");
            }
        }

        return sb.ToString();
    }

    /// <summary>Formats a metric value for the table.</summary>
    /// <param name="metric">The metric name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The text.</returns>
    public static string Format(string metric, double value)
    {
        var inv = CultureInfo.InvariantCulture;
        if (metric is "erases" or "erase_min" or "erase_max" or "ram_bytes" or "intact" or "files" or "checkpoint_bytes")
        {
            return value.ToString("N0", inv);
        }

        double a = Math.Abs(value);
        string f = a >= 1000 ? "N0" : a >= 100 ? "N1" : a >= 10 ? "N2" : "N3";
        return value.ToString(f, inv);
    }

    private static void WritePairs(Utf8JsonWriter w, string name, List<(string Workload, string Text)> items)
    {
        w.WriteStartArray(name);
        foreach (var (workload, text) in items)
        {
            w.WriteStartObject();
            w.WriteString("workload", workload);
            w.WriteString("text", text);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }
}

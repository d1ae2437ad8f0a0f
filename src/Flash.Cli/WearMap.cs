using System.Globalization;
using System.Text;

namespace Flash.Cli;

/// <summary>
/// Pictures of per-block erase counts: an SVG (one square per block, coloured from cool to hot, bad blocks black,
/// each with a tooltip) and a terminal heat map (one coloured cell per block). Pure functions of the counts.
/// </summary>
public static class WearMap
{
    /// <summary>Blocks per row.</summary>
    public const int Columns = 64;

    private const int Cell = 10;

    /// <summary>The colour of a block whose erase count is <paramref name="count"/> on a scale of min..max.</summary>
    /// <param name="count">The block's erase count.</param>
    /// <param name="min">Lowest count of the device.</param>
    /// <param name="max">Highest count of the device.</param>
    /// <returns>An RGB colour: blue (least worn) through green and yellow to red (most worn).</returns>
    public static (byte R, byte G, byte B) ColorOf(long count, long min, long max)
    {
        double t = max > min ? (double)(count - min) / (max - min) : 0;
        // Hue 240 (blue) down to 0 (red), full saturation and value.
        double hue = 240 * (1 - Math.Clamp(t, 0, 1));
        double x = 1 - Math.Abs(hue / 60 % 2 - 1);
        (double r, double g, double b) = (int)(hue / 60) switch
        {
            0 => (1, x, 0d),
            1 => (x, 1, 0d),
            2 => (0d, 1, x),
            3 => (0d, x, 1d),
            _ => (x, 0d, 1d),
        };
        return ((byte)Math.Round(r * 255), (byte)Math.Round(g * 255), (byte)Math.Round(b * 255));
    }

    /// <summary>Draws the SVG picture.</summary>
    /// <param name="eraseCounts">Erase count of each block; null for a bad block.</param>
    /// <param name="title">Caption (device and geometry).</param>
    /// <returns>The SVG document.</returns>
    public static string Svg(IReadOnlyList<long?> eraseCounts, string title)
    {
        ArgumentNullException.ThrowIfNull(eraseCounts);
        var (min, max) = Range(eraseCounts);
        int rows = (eraseCounts.Count + Columns - 1) / Columns;
        int width = Columns * Cell, height = rows * Cell + 34;
        var inv = CultureInfo.InvariantCulture;
        var svg = new StringBuilder();
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n");
        svg.Append(inv, $"<title>{Escape(title)}</title>\n");
        svg.Append(inv, $"<text x=\"2\" y=\"14\" font-family=\"monospace\" font-size=\"12\">{Escape(title)}: erase counts {min}..{max}, black = bad block</text>\n");
        for (int block = 0; block < eraseCounts.Count; block++)
        {
            int x = block % Columns * Cell, y = block / Columns * Cell + 20;
            long? count = eraseCounts[block];
            string fill = count is long c ? Hex(ColorOf(c, min, max)) : "#000000";
            string tip = count is long n ? $"block {block}: {n} erases" : $"block {block}: bad";
            svg.Append(inv, $"<rect x=\"{x}\" y=\"{y}\" width=\"{Cell - 1}\" height=\"{Cell - 1}\" fill=\"{fill}\" data-block=\"{block}\" data-erases=\"{(count is long e ? e.ToString(inv) : "bad")}\"><title>{tip}</title></rect>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Draws the terminal heat map as Spectre markup: one cell per block, <see cref="Columns"/> a row.</summary>
    /// <param name="eraseCounts">Erase count of each block; null for a bad block.</param>
    /// <returns>The markup.</returns>
    public static string HeatMapMarkup(IReadOnlyList<long?> eraseCounts)
    {
        ArgumentNullException.ThrowIfNull(eraseCounts);
        var (min, max) = Range(eraseCounts);
        var text = new StringBuilder();
        for (int block = 0; block < eraseCounts.Count; block++)
        {
            if (block > 0 && block % Columns == 0)
            {
                text.Append('\n');
            }

            text.Append(eraseCounts[block] is long c ? $"[{Hex(ColorOf(c, min, max))}]█[/]" : "[grey]x[/]");
        }

        text.Append(CultureInfo.InvariantCulture, $"\n[blue]█[/] {min} erases  ..  [red]█[/] {max} erases   [grey]x[/] bad block");
        return text.ToString();
    }

    /// <summary>The lowest and highest count of the good blocks (0, 0 when none).</summary>
    /// <param name="eraseCounts">Erase count of each block; null for a bad block.</param>
    /// <returns>Minimum and maximum.</returns>
    public static (long Min, long Max) Range(IReadOnlyList<long?> eraseCounts)
    {
        ArgumentNullException.ThrowIfNull(eraseCounts);
        var good = eraseCounts.Where(c => c.HasValue).Select(c => c!.Value).ToList();
        return good.Count == 0 ? (0, 0) : (good.Min(), good.Max());
    }

    private static string Hex((byte R, byte G, byte B) c) => $"#{c.R:x2}{c.G:x2}{c.B:x2}";

    private static string Escape(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}

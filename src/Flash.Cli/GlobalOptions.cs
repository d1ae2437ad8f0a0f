using System.CommandLine;
using Flash.Drivers;

namespace Flash.Cli;

/// <summary>The options every flashctl command accepts: output mode and the geometry of image files.</summary>
public sealed class GlobalOptions
{
    /// <summary><c>--json</c>: machine-readable output on stdout.</summary>
    public Option<bool> Json { get; } = new("--json") { Description = "Write the result as JSON on stdout (for scripts)", Recursive = true };

    /// <summary><c>--no-progress</c>: no progress bars even on a terminal.</summary>
    public Option<bool> NoProgress { get; } = new("--no-progress") { Description = "Never draw progress bars", Recursive = true };

    /// <summary><c>--page-size</c>.</summary>
    public Option<int> PageSize { get; } = new("--page-size") { Description = "Data bytes per page of an image file", DefaultValueFactory = _ => 2048, Recursive = true };

    /// <summary><c>--spare-size</c>.</summary>
    public Option<int> SpareSize { get; } = new("--spare-size") { Description = "Spare (OOB) bytes per page of an image file; 0 for NOR", DefaultValueFactory = _ => 64, Recursive = true };

    /// <summary><c>--pages-per-block</c>.</summary>
    public Option<int> PagesPerBlock { get; } = new("--pages-per-block") { Description = "Pages per erase block of an image file", DefaultValueFactory = _ => 64, Recursive = true };

    /// <summary>Adds the options to the root command.</summary>
    /// <param name="root">The root command.</param>
    public void AddTo(Command root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Options.Add(Json);
        root.Options.Add(NoProgress);
        root.Options.Add(PageSize);
        root.Options.Add(SpareSize);
        root.Options.Add(PagesPerBlock);
    }

    /// <summary>The geometry of an image file of a given length under the options.</summary>
    /// <param name="result">The parse result.</param>
    /// <param name="imageLength">Length of the image in bytes; the block count follows from it.</param>
    /// <returns>The geometry.</returns>
    /// <exception cref="CliException">The length is not a whole number of blocks.</exception>
    public FlashGeometry GeometryFor(ParseResult result, long imageLength)
    {
        ArgumentNullException.ThrowIfNull(result);
        int page = result.GetValue(PageSize), spare = result.GetValue(SpareSize), ppb = result.GetValue(PagesPerBlock);
        long blockBytes = (long)(page + spare) * ppb;
        if (blockBytes <= 0 || imageLength <= 0 || imageLength % blockBytes != 0)
        {
            throw new CliException(ExitCodes.Device, $"The image has {imageLength} bytes, which is not a whole number of {ppb} x ({page}+{spare}) B blocks; give --page-size, --spare-size and --pages-per-block of the part it was dumped from.");
        }

        return GeometryOf(result, checked((int)(imageLength / blockBytes)));
    }

    /// <summary>The geometry of a new image with a given block count under the options.</summary>
    /// <param name="result">The parse result.</param>
    /// <param name="blocks">Erase blocks.</param>
    /// <returns>The geometry.</returns>
    public FlashGeometry GeometryOf(ParseResult result, int blocks)
    {
        ArgumentNullException.ThrowIfNull(result);
        int page = result.GetValue(PageSize), spare = result.GetValue(SpareSize), ppb = result.GetValue(PagesPerBlock);
        try
        {
            return spare == 0 ? FlashGeometry.Nor(page, ppb, blocks) : new FlashGeometry(page, spare, ppb, blocks);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new CliException(ExitCodes.Usage, "Geometry: " + ex.Message);
        }
    }
}

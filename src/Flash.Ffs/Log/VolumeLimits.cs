using Flash.Drivers;
using Flash.Ffs.Format;

namespace Flash.Ffs.Log;

/// <summary>What a geometry needs to hold a volume, and the exact reason when it cannot (docs/format.md, "Limits").</summary>
internal static class VolumeLimits
{
    /// <summary>Blocks a volume needs at least: two anchor blocks, two for checkpoints (the current and the next), the two heads' blocks, four reserved, and room for the log.</summary>
    public const int MinBlocks = 16;

    /// <summary>
    /// Payload bytes a page must carry at least: one metadata page must hold an inode record with the longest name
    /// (24 + 255 bytes) and a quarter page of inline data, so 3/4 of the payload must reach 279 bytes.
    /// </summary>
    public const int MinPayload = 372;

    /// <summary>Null when <paramref name="g"/> can hold a volume with <paramref name="payload"/> bytes a page; otherwise why not.</summary>
    public static string? Refusal(FlashGeometry g, int payload, bool tagInSpare)
    {
        if (g.BlockCount < MinBlocks)
        {
            return $"Geometry {g} cannot hold a volume: it has {g.BlockCount} blocks and a volume needs at least {MinBlocks} (two anchor blocks among the first 16, two checkpoint blocks, the log heads' blocks and at least four reserved).";
        }

        if (payload < MinPayload)
        {
            string where = tagInSpare
                ? "its tag is in the spare area"
                : $"its {PageTag.Size}-byte tag takes the end of the page because the spare area has {g.SpareFreeLength} free bytes, fewer than {PageTag.Size}";
            return $"Geometry {g} cannot hold a volume: a page carries {payload} bytes of payload ({where}) and a volume needs at least {MinPayload} (a metadata page must hold an entry with a 255-byte name and a quarter page of inline data).";
        }

        return null;
    }
}

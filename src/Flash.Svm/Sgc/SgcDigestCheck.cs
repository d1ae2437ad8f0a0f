using Flash.Ffs.Contexts;

namespace Flash.Svm.Sgc;

/// <summary>
/// Checks a file of a new software set, as read back from the primary before it is copied to the secondary (claim 36),
/// against what the SGC file of that set says: a component against its size, CRC-32C and SHA-256, the SGC file
/// against its own bytes; configuration files are not judged here (the pair compares every file with the bytes it wrote).
/// </summary>
internal sealed class SgcDigestCheck
{
    private readonly Dictionary<string, SgcComponent> _components;
    private readonly ReadOnlyMemory<byte> _sgcBytes;

    /// <summary>Creates the check for one software set.</summary>
    /// <param name="sgc">The set's SGC file.</param>
    /// <param name="sgcBytes">The SGC file as stored.</param>
    public SgcDigestCheck(SgcFile sgc, ReadOnlyMemory<byte> sgcBytes)
    {
        _components = sgc.Components.ToDictionary(c => SvmLayout.Component(c.Name), StringComparer.Ordinal);
        _sgcBytes = sgcBytes;
    }

    /// <summary>Whether a file (path relative to its area) is what the SGC file says; unknown paths are refused.</summary>
    /// <param name="area">The area (not used: both areas hold the same layout).</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="content">The content.</param>
    /// <returns>True when it verifies.</returns>
    public bool Check(ContextArea area, string path, ReadOnlySpan<byte> content)
    {
        if (_components.TryGetValue(path, out var c))
        {
            return c.Matches(content);
        }

        if (path == SvmLayout.Sgc)
        {
            return content.SequenceEqual(_sgcBytes.Span);
        }

        // Configuration files are copied as they are (a damaged backup included); the pair compares them with the
        // bytes it wrote, which is all that can be asked of them here.
        return path.StartsWith(SvmLayout.ConfigurationPrefix, StringComparison.Ordinal);
    }
}

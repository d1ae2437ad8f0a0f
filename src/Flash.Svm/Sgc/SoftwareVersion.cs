using System.Globalization;

namespace Flash.Svm.Sgc;

/// <summary>A release or component version: <c>major.minor.patch</c>, compared numerically.</summary>
/// <param name="Major">Major number.</param>
/// <param name="Minor">Minor number.</param>
/// <param name="Patch">Patch number.</param>
public readonly record struct SoftwareVersion(ushort Major, ushort Minor, ushort Patch) : IComparable<SoftwareVersion>
{
    /// <summary>Version 0.0.0.</summary>
    public static SoftwareVersion Zero => default;

    /// <summary>Parses <c>1.2.3</c> (missing parts are zero).</summary>
    /// <param name="text">The version text.</param>
    /// <returns>The version.</returns>
    /// <exception cref="FormatException">The text is not a version.</exception>
    public static SoftwareVersion Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split('.');
        if (parts.Length is < 1 or > 3)
        {
            throw new FormatException($"'{text}' is not a version (major.minor.patch).");
        }

        Span<ushort> v = stackalloc ushort[3];
        for (int i = 0; i < parts.Length; i++)
        {
            v[i] = ushort.Parse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture);
        }

        return new SoftwareVersion(v[0], v[1], v[2]);
    }

    /// <inheritdoc />
    public int CompareTo(SoftwareVersion other)
    {
        int c = Major.CompareTo(other.Major);
        if (c == 0)
        {
            c = Minor.CompareTo(other.Minor);
        }

        return c != 0 ? c : Patch.CompareTo(other.Patch);
    }

    /// <summary>Compares two versions.</summary>
    public static bool operator <(SoftwareVersion left, SoftwareVersion right) => left.CompareTo(right) < 0;

    /// <summary>Compares two versions.</summary>
    public static bool operator >(SoftwareVersion left, SoftwareVersion right) => left.CompareTo(right) > 0;

    /// <summary>Compares two versions.</summary>
    public static bool operator <=(SoftwareVersion left, SoftwareVersion right) => left.CompareTo(right) <= 0;

    /// <summary>Compares two versions.</summary>
    public static bool operator >=(SoftwareVersion left, SoftwareVersion right) => left.CompareTo(right) >= 0;

    /// <inheritdoc />
    public override string ToString() => $"{Major}.{Minor}.{Patch}";
}

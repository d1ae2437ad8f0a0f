using Flash.Ffs.Contexts;
using Flash.Svm.Sgc;

namespace Flash.Svm;

/// <summary>Where SVM keeps things inside a context area of the shared <see cref="ContextStore"/> layout (paths relative to the area).</summary>
public static class SvmLayout
{
    /// <summary>The SGC file (component → processor module map), written last when an area is filled.</summary>
    public const string Sgc = ContextLayout.ComponentMapFile;

    /// <summary>Prefix of component files.</summary>
    public const string ComponentsPrefix = ContextLayout.ComponentsDirectory + "/";

    /// <summary>Prefix of configuration files.</summary>
    public const string ConfigurationPrefix = ContextLayout.ConfigurationDirectory + "/";

    /// <summary>Prefix of the backups of the previous configuration (a subfolder of the configuration folder).</summary>
    public const string BackupPrefix = ConfigurationPrefix + "backup/";

    /// <summary>The security state record (<see cref="Security.SecurityState"/>): under the configuration folder so it is mirrored and carried at activation, but not a configuration file.</summary>
    public const string SecurityState = ConfigurationPrefix + "security/state";

    /// <summary>Path of a component.</summary>
    /// <param name="name">Component name.</param>
    /// <returns>The relative path.</returns>
    public static string Component(string name) => ComponentsPrefix + name;

    /// <summary>Path of a configuration file.</summary>
    /// <param name="name">Configuration name.</param>
    /// <returns>The relative path.</returns>
    public static string Configuration(string name) => ConfigurationPrefix + name;

    /// <summary>Path of the backup of a configuration file.</summary>
    /// <param name="name">Configuration name.</param>
    /// <returns>The relative path.</returns>
    public static string Backup(string name) => BackupPrefix + name;

    /// <summary>Names of the configuration files in a file list of an area.</summary>
    /// <param name="files">Relative paths.</param>
    /// <returns>Configuration names.</returns>
    public static IEnumerable<string> ConfigurationNames(IEnumerable<string> files)
        => files.Where(f => f.StartsWith(ConfigurationPrefix, StringComparison.Ordinal) && f.IndexOf('/', ConfigurationPrefix.Length) < 0).Select(f => f[ConfigurationPrefix.Length..]);

    /// <summary>Names of the configuration backups in a file list of an area.</summary>
    /// <param name="files">Relative paths.</param>
    /// <returns>Configuration names.</returns>
    public static IEnumerable<string> BackupNames(IEnumerable<string> files)
        => files.Where(f => f.StartsWith(BackupPrefix, StringComparison.Ordinal)).Select(f => f[BackupPrefix.Length..]);
}

/// <summary>SVM's reading of the shared <see cref="ContextTable"/>: the area labels carry the release.</summary>
public static class ContextTableReleases
{
    /// <summary>Release in the current area (from its label; 0.0.0 when unlabelled).</summary>
    /// <param name="table">The table.</param>
    /// <returns>The release.</returns>
    public static SoftwareVersion CurrentRelease(this ContextTable table) => Parse(table.LabelOf(table.Current));

    /// <summary>Release in the alternate area (from its label; 0.0.0 when unlabelled).</summary>
    /// <param name="table">The table.</param>
    /// <returns>The release.</returns>
    public static SoftwareVersion AlternateRelease(this ContextTable table) => Parse(table.LabelOf(table.Alternate));

    private static SoftwareVersion Parse(string label)
    {
        try
        {
            return label.Length == 0 ? default : SoftwareVersion.Parse(label);
        }
        catch (FormatException)
        {
            return default;
        }
        catch (OverflowException)
        {
            return default;
        }
    }
}

/// <summary>Result of verifying one context area on one device.</summary>
/// <param name="Sgc">The SGC file, if it parsed.</param>
/// <param name="SoftwareError">Why the SGC file or a component is bad; null when good.</param>
/// <param name="ConfigurationError">Why the configuration is bad; null when good.</param>
public sealed record AreaVerification(SgcFile? Sgc, string? SoftwareError, string? ConfigurationError)
{
    /// <summary>SGC file and every component verified.</summary>
    public bool SoftwareOk => SoftwareError is null;

    /// <summary>Software and configuration verified.</summary>
    public bool Ok => SoftwareError is null && ConfigurationError is null;
}

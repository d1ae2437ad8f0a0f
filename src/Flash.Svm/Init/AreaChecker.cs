using Flash.Svm.Configuration;
using Flash.Svm.Sgc;

namespace Flash.Svm.Init;

/// <summary>
/// Verifies one context area through two read functions (so the same rules apply to a device of the mounted pair and to
/// a device probed read-only before the pair is mounted): the SGC file's checksum, every component against it and, when
/// asked, every configuration file and backup (and the node configuration, which must exist).
/// </summary>
internal static class AreaChecker
{
    /// <summary>Verifies the area.</summary>
    /// <param name="read">Reads a file (path relative to the area); null when missing; throws <see cref="IOException"/> when unreadable.</param>
    /// <param name="list">Lists the files of the area.</param>
    /// <param name="checkConfiguration">Also check the configuration.</param>
    /// <returns>The verification.</returns>
    public static AreaVerification Check(Func<string, byte[]?> read, Func<IReadOnlyList<string>> list, bool checkConfiguration)
    {
        SgcFile sgc;
        try
        {
            var bytes = read(SvmLayout.Sgc);
            if (bytes is null)
            {
                return new AreaVerification(null, "no SGC file", checkConfiguration ? CheckConfiguration(read, list) : null);
            }

            sgc = SgcFile.Parse(bytes);
        }
        catch (IOException ex)
        {
            return new AreaVerification(null, "SGC file: " + ex.Message, checkConfiguration ? CheckConfiguration(read, list) : null);
        }

        string? softwareError = null;
        foreach (var c in sgc.Components)
        {
            try
            {
                var data = read(SvmLayout.Component(c.Name));
                if (data is null)
                {
                    softwareError = $"component {c.Name} is missing";
                }
                else if (!c.Matches(data))
                {
                    softwareError = $"component {c.Name} does not match its SGC checksums";
                }
            }
            catch (IOException ex)
            {
                softwareError = $"component {c.Name}: {ex.Message}";
            }

            if (softwareError is not null)
            {
                break;
            }
        }

        return new AreaVerification(sgc, softwareError, checkConfiguration ? CheckConfiguration(read, list) : null);
    }

    private static string? CheckConfiguration(Func<string, byte[]?> read, Func<IReadOnlyList<string>> list)
    {
        try
        {
            var files = list();
            var names = SvmLayout.ConfigurationNames(files).Union(SvmLayout.BackupNames(files)).Append(ConfigurationFile.NodeName).Distinct();
            foreach (var name in names)
            {
                var data = read(SvmLayout.Configuration(name));
                if (data is null)
                {
                    return $"configuration {name} is missing";
                }

                ConfigurationFile.Parse(data);
            }

            return null;
        }
        catch (IOException ex)
        {
            return "configuration: " + ex.Message;
        }
    }
}

using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>
    /// No device holds a verified current software set, but the pair is mounted: the current set is rebuilt without
    /// formatting anything, keeping the current configuration — from a valid alternate release, else from the components
    /// that verify on either device, else from the recovery source (downloaded and verified before anything is written).
    /// The rebuilt set is written into the alternate and activated with the current configuration carried over.
    /// </summary>
    private void Rebuild(RedundantPair pair, BootReport report, CancellationToken cancellationToken)
    {
        if (_plan?.Preferred is { } keeper && NameOf(pair.Primary) != keeper && !pair.IsDegraded)
        {
            // The device whose configuration verifies becomes primary: its configuration is the one kept.
            pair.Redesignate(cancellationToken);
            report.Redesignated = true;
        }

        var config = ConfigurationOf(pair.Primary, pair.Table.Current);
        var t = pair.Table;
        if (t.AlternateState == ContextState.Valid && Verify(pair.Primary, t.Alternate, checkConfiguration: false) is { SoftwareOk: true } alt
            && alt.Sgc!.SecurityCounter >= SecurityFloor())
        {
            ActivateCarrying(pair, config, cancellationToken);
            InvalidateBadAlternate(pair, cancellationToken);
            Raise(SvmEvents.Rebuilt, LogLevel.Warning, $"No device holds a good current software set; fell back to the valid alternate release {t.AlternateRelease()} with the current configuration");
            return;
        }

        if (Combine(pair) is { } combined)
        {
            InstallIntoAlternate(pair, combined.Sgc, combined.SgcBytes, combined.Components, config, cancellationToken);
            ActivateCarrying(pair, config, cancellationToken);
            InvalidateBadAlternate(pair, cancellationToken);
            Raise(SvmEvents.Rebuilt, LogLevel.Warning, $"No device holds a good current software set; release {combined.Sgc.Release} rebuilt from the components that verify on either device, with the current configuration");
            return;
        }

        if (_options.RecoverySource is null)
        {
            RequestReplacement(_plan!);
        }

        SoftwarePackage pkg;
        try
        {
            pkg = OpenPackage(Fetch(_options.RecoverySource!, cancellationToken));
            RequirePackageAtFloor(pkg);
        }
        catch (IOException ex)
        {
            Raise(SvmEvents.StorageUnavailable, LogLevel.Critical, $"No device holds a good software set and the recovery download failed: {ex.Message}");
            throw new NvsUnavailableException($"No device holds a good software set and the recovery download failed: {ex.Message}");
        }

        var files = pkg.Sgc.Components.ToDictionary(c => c.Name, c => pkg.Component(c.Name).ToArray(), StringComparer.Ordinal);
        InstallIntoAlternate(pair, pkg.Sgc, pkg.SgcBytes.ToArray(), files, config, cancellationToken);
        ActivateCarrying(pair, config, cancellationToken);
        InvalidateBadAlternate(pair, cancellationToken);
        report.Recovered = true;
        Raise(SvmEvents.Recovered, LogLevel.Warning, $"Release {pkg.Release} downloaded again from {_options.RecoverySource}, verified and installed with the current configuration (nothing was formatted)");
    }

    /// <summary>The previous current set (now the alternate) verified on no device: it is marked invalid so that nothing activates it.</summary>
    private void InvalidateBadAlternate(RedundantPair pair, CancellationToken cancellationToken)
    {
        var t = pair.Table;
        if (t.AlternateState == ContextState.Valid && !Verify(pair.Primary, t.Alternate, checkConfiguration: false).SoftwareOk)
        {
            pair.Invalidate(t.Alternate, cancellationToken);
        }
    }

    private sealed record CombinedSet(SgcFile Sgc, byte[] SgcBytes, Dictionary<string, byte[]> Components);

    /// <summary>The current SGC file of either device with every component taken from whichever device has it verified; null when a component verifies nowhere.</summary>
    private CombinedSet? Combine(RedundantPair pair)
    {
        var usable = pair.Members.Where(m => m.Table is not null && !m.IsFailed).ToList();
        foreach (var source in usable)
        {
            byte[]? sgcBytes = TryReadOn(pair, source, source.Table!.Current, SvmLayout.Sgc);
            SgcFile sgc;
            try
            {
                if (sgcBytes is null)
                {
                    continue;
                }

                sgc = SgcFile.Parse(sgcBytes);
            }
            catch (SvmFormatException)
            {
                continue;
            }

            var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var c in sgc.Components)
            {
                foreach (var m in usable)
                {
                    foreach (var area in new[] { m.Table!.Current, m.Table.Alternate })
                    {
                        if (!found.ContainsKey(c.Name) && TryReadOn(pair, m, area, SvmLayout.Component(c.Name)) is { } data && c.Matches(data))
                        {
                            found[c.Name] = data;
                        }
                    }
                }
            }

            if (found.Count == sgc.Components.Count)
            {
                return new CombinedSet(sgc, sgcBytes, found);
            }
        }

        return null;
    }

    private static byte[]? TryReadOn(RedundantPair pair, PairMember member, ContextArea area, string path)
    {
        try
        {
            return pair.TryRead(member, area, path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The configuration files (and backups) of an area on one device, as they are (null when unreadable).</summary>
    private List<KeyValuePair<string, byte[]>> ConfigurationOf(PairMember member, ContextArea area)
    {
        var files = new List<KeyValuePair<string, byte[]>>();
        try
        {
            foreach (var path in Storage.List(member, area).Where(p => p.StartsWith(SvmLayout.ConfigurationPrefix, StringComparison.Ordinal)))
            {
                if (TryReadOn(Storage, member, area, path) is { } data)
                {
                    files.Add(new(path, data));
                }
            }
        }
        catch (IOException)
        {
            // An unreadable listing leaves nothing to carry; init restores from backups or factory defaults.
        }

        return files;
    }

    /// <summary>
    /// Writes a verified software set and a configuration into the alternate in one commit per device, then marks it
    /// complete (the current area is not touched). One commit, and no clearing first, because the devices differ here:
    /// should power fail between the primary's commit and the secondary's, the mount copies the primary over the
    /// secondary, and the parts only the secondary had must by then be safe in the primary's alternate. Files of an
    /// older alternate that the set does not name stay until that area is next cleared.
    /// </summary>
    private static void InstallIntoAlternate(RedundantPair pair, SgcFile sgc, byte[] sgcBytes, Dictionary<string, byte[]> components, List<KeyValuePair<string, byte[]>> config, CancellationToken cancellationToken)
    {
        var files = sgc.Components.Select(c => new KeyValuePair<string, byte[]>(SvmLayout.Component(c.Name), components[c.Name])).ToList();
        files.AddRange(config);
        files.Add(new(SvmLayout.Sgc, sgcBytes));
        pair.WriteAlternate(files, cancellationToken);
        pair.MarkAlternateComplete(sgc.Release.ToString(), cancellationToken);
    }

    /// <summary>
    /// Makes the alternate current with the given configuration: switch on trial, write the configuration into the new
    /// current, confirm. A power cut before the confirmation leaves the new current on trial, which the next init
    /// reverts (previous software good) or confirms with the previous configuration carried over (previous software bad),
    /// so the node never runs a release with a stale configuration.
    /// </summary>
    private void ActivateCarrying(RedundantPair pair, List<KeyValuePair<string, byte[]>> config, CancellationToken cancellationToken)
    {
        pair.SwitchContexts(trial: true, cancellationToken);
        if (config.Count > 0)
        {
            pair.WriteCurrentConfiguration(config, cancellationToken);
        }

        pair.ConfirmCurrent(cancellationToken);
    }
}

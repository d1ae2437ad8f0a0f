using Flash.Svm.Configuration;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Flash.Svm.Storage;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>
    /// Runs an upgrade: fetches the package named by the command's transfer parameters, verifies it completely, stores
    /// the new version into the primary's alternate context (every component for a full upgrade; only changed ones for
    /// a partial upgrade, the rest copied from the current context), verifies it, copies it to the secondary while the
    /// primary's alternate is restricted, verifies that, marks the alternate complete and activates it as the command says.
    /// The current context is never written.
    /// </summary>
    /// <param name="command">The system command.</param>
    /// <param name="progress">Receives progress.</param>
    /// <param name="cancellationToken">Cancels the upgrade; the alternate is then marked invalid.</param>
    /// <returns>What was written and which modules are affected.</returns>
    /// <exception cref="PackageRejectedException">The package was rejected; nothing was written.</exception>
    /// <exception cref="UpgradeFailedException">Writing or verification failed; the alternate is marked invalid.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the alternate is marked invalid.</exception>
    public UpgradeResult Upgrade(UpgradeCommand command, IProgress<UpgradeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        var pkg = OpenPackage(Fetch(command.Transfer, cancellationToken));
        return Upgrade(pkg, command.Mode, command.Activation, progress, cancellationToken);
    }

    /// <summary>Runs an upgrade from a package already in memory (see <see cref="Upgrade(UpgradeCommand, IProgress{UpgradeProgress}?, CancellationToken)"/>).</summary>
    /// <param name="package">The package file.</param>
    /// <param name="mode">Full, partial or automatic.</param>
    /// <param name="activation">What to do with the complete alternate.</param>
    /// <param name="progress">Receives progress.</param>
    /// <param name="cancellationToken">Cancels the upgrade.</param>
    /// <returns>The result.</returns>
    public UpgradeResult Upgrade(byte[] package, UpgradeMode mode = UpgradeMode.Auto, ActivationMode activation = ActivationMode.TrialBoot, IProgress<UpgradeProgress>? progress = null, CancellationToken cancellationToken = default)
        => Upgrade(OpenPackage(package), mode, activation, progress, cancellationToken);

    private UpgradeResult Upgrade(SoftwarePackage pkg, UpgradeMode mode, ActivationMode activation, IProgress<UpgradeProgress>? progress, CancellationToken cancellationToken)
    {
        var p = Primary;
        var table = ReadTable();
        int cur = table.CurrentArea;
        int alt = table.AlternateArea;
        SgcFile? currentSgc = null;
        try
        {
            var bytes = p.ReadSgc(cur);
            currentSgc = bytes is null ? null : SgcFile.Parse(bytes);
        }
        catch (IOException)
        {
            currentSgc = null;
        }

        if (mode == UpgradeMode.Auto)
        {
            mode = currentSgc is null ? UpgradeMode.Full : UpgradeMode.Partial;
        }

        if (mode == UpgradeMode.Partial && currentSgc is null)
        {
            throw new SvmException("A partial upgrade needs a valid SGC file in the current context.");
        }

        var modules = _bus.Modules.Select(m => m.Address).ToList();
        IReadOnlyList<SgcComponent> download;
        IReadOnlyList<SgcComponent> copy;
        IReadOnlyList<ModuleAddress> affected;
        if (mode == UpgradeMode.Partial)
        {
            var diff = pkg.Sgc.CompareWith(currentSgc!, modules);
            download = diff.Changed;
            copy = diff.Unchanged;
            affected = diff.AffectedModules;
        }
        else
        {
            download = pkg.Sgc.Components;
            copy = [];
            affected = modules;
        }

        Raise(SvmEvents.UpgradeStarted, LogLevel.Information,
            $"{mode} upgrade {table.CurrentRelease} -> {pkg.Release}: {download.Count} component(s) to download, {copy.Count} to copy from the current context");
        long written = 0;
        try
        {
            CheckNotRestricted(p, alt);
            UpdateTables(t => t with { Alternate = AlternateState.Writing, AlternateRelease = pkg.Release, AlternateBoot = false, TrialAttemptsLeft = 0 });

            // 1. Store into the primary's alternate context.
            p.ClearArea(alt);
            long total = download.Sum(c => c.Size) + copy.Sum(c => c.Size);
            int n = 0;
            foreach (var c in pkg.Sgc.Components)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadOnlySpan<byte> data;
                if (download.Contains(c))
                {
                    data = pkg.Component(c.Name).Span;
                }
                else
                {
                    var old = p.ReadFile(cur, AreaFolder.Components, c.Name);
                    if (old is null || !c.Matches(old))
                    {
                        throw new SvmException($"Unchanged component {c.Name} in the current context does not verify; use a full upgrade.");
                    }

                    data = old;
                }

                p.WriteFile(alt, AreaFolder.Components, c.Name, data);
                written += data.Length;
                progress?.Report(new UpgradeProgress("store-primary", written, total, ++n, pkg.Sgc.Components.Count));
            }

            foreach (var folder in new[] { AreaFolder.Configuration, AreaFolder.ConfigurationBackup })
            {
                foreach (var name in p.List(cur, folder))
                {
                    p.WriteFile(alt, folder, name, p.ReadFile(cur, folder, name)!);
                }
            }

            p.WriteSgc(alt, pkg.SgcBytes.Span);
            progress?.Report(new UpgradeProgress("verify-primary", 0, total, 0, pkg.Sgc.Components.Count));
            var v = p.Verify(alt, checkConfiguration: false);
            if (!v.SoftwareOk)
            {
                throw new SvmException($"{p} alternate does not verify: {v.SoftwareError}");
            }

            // 2. Copy to the secondary while the primary's alternate is restricted.
            using (Restrict(p, alt))
            {
                CopyArea(p, Secondary, alt, progress, cancellationToken);
            }

            cancellationToken.ThrowIfCancellationRequested();
            var complete = UpdateTables(t => t with { Alternate = AlternateState.Complete });
            Raise(SvmEvents.UpgradeCompleted, LogLevel.Information, $"Release {pkg.Release} is complete and verified in the alternate context of {p} and {Secondary}");
            var changes = DeviceChanges(pkg.Sgc, download, modules);
            foreach (var ch in changes)
            {
                Raise(SvmEvents.ProgrammableDeviceChange, LogLevel.Warning,
                    $"AUTONOMOUS MESSAGE: module {ch.Module} {ch.Kind} {ch.Device} will be reprogrammed with {ch.Component}; service on the module is affected",
                    ch.Module, ch.Device);
            }

            switch (activation)
            {
                case ActivationMode.TrialBoot:
                    SetAlternateBootFlag();
                    break;
                case ActivationMode.Exchange:
                    ExchangeContexts();
                    break;
                default:
                    break;
            }

            _ = complete;
            return new UpgradeResult(pkg.Release, mode, download.Select(c => c.Name).ToList(), copy.Select(c => c.Name).ToList(), affected, changes, written);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            MarkAlternateInvalid();
            Raise(SvmEvents.UpgradeFailed, LogLevel.Error, $"Upgrade to {pkg.Release} {(ex is OperationCanceledException ? "cancelled" : "failed")}: {ex.Message}; the alternate is marked invalid");
            if (ex is OperationCanceledException)
            {
                throw;
            }

            throw new UpgradeFailedException($"Upgrade to {pkg.Release} failed: {ex.Message}", ex);
        }
    }

    private void MarkAlternateInvalid()
    {
        // Best effort: after a power loss the devices are off and the next init marks a half-written alternate invalid.
        foreach (var dev in new[] { Primary, Secondary })
        {
            try
            {
                var t = dev.ReadTable(out _);
                if (t is not null && t.Alternate != AlternateState.Invalid)
                {
                    dev.WriteTable(t with { Alternate = AlternateState.Invalid, AlternateBoot = false, Sequence = t.Sequence + 1 });
                }
            }
            catch (IOException)
            {
                // Handled at the next init.
            }
        }
    }

    private static List<ProgrammableDeviceChange> DeviceChanges(SgcFile sgc, IReadOnlyList<SgcComponent> changed, IReadOnlyList<ModuleAddress> modules)
    {
        var list = new List<ProgrammableDeviceChange>();
        foreach (var c in changed.Where(c => c.IsProgrammableDevice))
        {
            foreach (var m in modules.Where(m => sgc.Mappings.Any(x => x.Component == c.Name && x.AppliesTo(m))))
            {
                list.Add(new ProgrammableDeviceChange(m, c.DeviceName, c.DeviceKind, c.Name));
            }
        }

        return list;
    }

    /// <summary>Sets the alternate boot flag: the next init boots the alternate context once, as a trial.</summary>
    /// <param name="attempts">Trial attempts; default <see cref="SvmOptions.TrialAttempts"/>.</param>
    /// <exception cref="InvalidOperationException">The alternate is not complete.</exception>
    public void SetAlternateBootFlag(int? attempts = null)
    {
        var t = ReadTable();
        if (t.Alternate != AlternateState.Complete)
        {
            throw new InvalidOperationException($"The alternate context is {t.Alternate}; only a complete alternate can be trial-booted.");
        }

        int n = Math.Max(1, attempts ?? _options.TrialAttempts);
        UpdateTables(x => x with { AlternateBoot = true, TrialAttemptsLeft = n });
        Raise(SvmEvents.BootFlagSet, LogLevel.Information, $"Alternate boot flag set: the next init trial-boots release {t.AlternateRelease} ({n} attempt(s))");
    }

    /// <summary>Exchanges current and alternate contexts (user-initiated switch without a trial): the next init loads the new current.</summary>
    /// <exception cref="InvalidOperationException">The alternate is not complete.</exception>
    public void ExchangeContexts()
    {
        var t = ReadTable();
        if (t.Alternate != AlternateState.Complete)
        {
            throw new InvalidOperationException($"The alternate context is {t.Alternate}; only a complete alternate can become current.");
        }

        UpdateTables(Swap);
        Raise(SvmEvents.ContextsExchanged, LogLevel.Information, $"Contexts exchanged: release {t.AlternateRelease} is current, {t.CurrentRelease} is the alternate");
    }

    private static NvsTable Swap(NvsTable t) => t with
    {
        CurrentArea = t.AlternateArea,
        CurrentRelease = t.AlternateRelease,
        AlternateRelease = t.CurrentRelease,
        Alternate = AlternateState.Complete,
        AlternateBoot = false,
        TrialAttemptsLeft = 0,
    };

    /// <summary>Reads a configuration file of the current context.</summary>
    /// <param name="name">Configuration name.</param>
    /// <returns>The configuration or null when missing.</returns>
    /// <exception cref="SvmFormatException">The file is corrupt.</exception>
    public ConfigurationFile? ReadConfiguration(string name)
    {
        var data = Primary.ReadFile(ReadTable().CurrentArea, AreaFolder.Configuration, name);
        return data is null ? null : ConfigurationFile.Parse(data);
    }

    /// <summary>
    /// Changes a configuration in the current context of both devices. The previous configuration is stored as the
    /// backup in the same atomic step (when backups are enabled).
    /// </summary>
    /// <param name="configuration">The new configuration.</param>
    public void ChangeConfiguration(ConfigurationFile configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var bytes = configuration.ToBytes();
        foreach (var dev in new[] { Primary, Secondary })
        {
            var t = dev.ReadTable(out var error) ?? throw new NvsUnavailableException($"{dev}: {error}");
            int area = t.CurrentArea;
            var old = dev.ReadFile(area, AreaFolder.Configuration, configuration.Name);
            dev.Atomically(tx =>
            {
                if (_options.ConfigurationBackups && old is not null)
                {
                    tx.Write(area, AreaFolder.ConfigurationBackup, configuration.Name, old);
                }

                tx.Write(area, AreaFolder.Configuration, configuration.Name, bytes);
            });
        }

        Raise(SvmEvents.ConfigurationChanged, LogLevel.Information, $"Configuration {configuration.Name} changed to revision {configuration.Revision}" + (_options.ConfigurationBackups ? " (previous kept as backup)" : ""));
    }
}

using Flash.Svm.Configuration;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
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
    /// <exception cref="UpgradeFailedException">Writing or verification failed; the alternate is marked invalid. A copy that
    /// did not verify against the SGC file on the primary has a <see cref="BackupVerificationException"/> as its inner exception.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the alternate is marked invalid.</exception>
    /// <exception cref="SvmException">The command names an asynchronous (network) source: use <see cref="UpgradeAsync"/>.</exception>
    public UpgradeResult Upgrade(UpgradeCommand command, IProgress<UpgradeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (SourceOf(command.Transfer) is IStreamingSoftwareSource streaming)
        {
            return UpgradeStreaming(command, streaming, progress, cancellationToken);
        }

        var pkg = OpenPackage(Fetch(command.Transfer, cancellationToken));
        return Upgrade(pkg, command.Mode, command.Activation, progress, cancellationToken);
    }

    /// <summary>
    /// Runs the upgrade command as <see cref="Upgrade(UpgradeCommand, IProgress{UpgradeProgress}?, CancellationToken)"/>
    /// does, for every kind of source: an asynchronous (network) source's transfer is awaited while the streaming
    /// install stores the bytes as they arrive (no thread is held for the transfer). For a synchronous source
    /// (file, directory, memory) nothing waits and the returned task is complete when the method returns, as a
    /// <see cref="MemoryStream"/>'s asynchronous reads are.
    /// </summary>
    /// <param name="command">The system command.</param>
    /// <param name="progress">Receives progress (from the thread the transfer continues on).</param>
    /// <param name="cancellationToken">Cancels the upgrade; the alternate is then marked invalid.</param>
    /// <returns>What was written and which modules are affected.</returns>
    /// <exception cref="PackageRejectedException">The package was rejected; nothing of it stays stored.</exception>
    /// <exception cref="UpgradeFailedException">The transfer, writing or verification failed; the alternate is marked invalid and the same command resumes.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the alternate is marked invalid.</exception>
    public async Task<UpgradeResult> UpgradeAsync(UpgradeCommand command, IProgress<UpgradeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (_options.Sources.FirstOrDefault(s => s.Kind == command.Transfer.Source) is IAsyncStreamingSoftwareSource network)
        {
            return await UpgradeStreamingAsync(command, network, progress, cancellationToken).ConfigureAwait(false);
        }

        // A file, directory or memory source waits for nothing: the same synchronous command, no task around it.
        return Upgrade(command, progress, cancellationToken);
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
        var pair = Storage;
        var table = pair.Table;
        SgcFile? currentSgc;
        try
        {
            var bytes = TryReadCurrent(SvmLayout.Sgc);
            currentSgc = bytes is null ? null : SgcFile.Parse(bytes);
        }
        catch (IOException)
        {
            currentSgc = null;
        }

        RequirePackageAtFloor(pkg);
        if (currentSgc is not null && currentSgc.Release == pkg.Release && !_options.AllowSameVersionReinstall)
        {
            Raise(SvmEvents.PackageRejected, LogLevel.Error, $"Release {pkg.Release} is already current; reinstalling it needs AllowSameVersionReinstall");
            throw new PackageRejectedException(PackageRejectReason.SameVersion, $"Release {pkg.Release} is already current.");
        }

        if (mode == UpgradeMode.Auto)
        {
            mode = currentSgc is null ? UpgradeMode.Full : UpgradeMode.Partial;
        }

        if (mode == UpgradeMode.Partial && currentSgc is null)
        {
            throw new SvmException("A partial upgrade needs a valid SGC file in the current context.");
        }

        var (download, copy, affected) = PlanUpgrade(pkg.Sgc, currentSgc, mode);

        RequireDeltaCovered(pkg, download);
        Raise(SvmEvents.UpgradeStarted, LogLevel.Information,
            $"{mode} upgrade {table.CurrentRelease()} -> {pkg.Release}: {download.Count} component(s) to download, {copy.Count} to copy from the current context");
        long written = 0;
        try
        {
            // The alternate is emptied (Invalid), then every write makes it Writing until it is marked complete. Each
            // write goes to the primary, then with the same transaction id to the secondary, copied from the primary
            // and checked against the SGC digests (StoreVerified). The data comes from the package verified in memory
            // (signature, SHA-256, CRC-32C) or from the current context verified on read.
            var check = new SgcDigestCheck(pkg.Sgc, pkg.SgcBytes);
            pair.ClearAlternate(cancellationToken);
            RequireRedundancy(pair);
            long total = download.Sum(c => c.Size) + copy.Sum(c => c.Size);
            int n = 0;
            foreach (var c in pkg.Sgc.Components)
            {
                cancellationToken.ThrowIfCancellationRequested();
                ReadOnlyMemory<byte> data;
                if (download.Contains(c))
                {
                    data = pkg.Component(c.Name);
                }
                else
                {
                    var old = TryReadCurrent(SvmLayout.Component(c.Name));
                    if (old is null || !c.Matches(old))
                    {
                        throw new SvmException($"Unchanged component {c.Name} in the current context does not verify; use a full upgrade.");
                    }

                    data = old;
                }

                StoreVerified(pair, SvmLayout.Component(c.Name), data, check, cancellationToken);
                RequireRedundancy(pair);
                written += data.Length;
                n++;
                progress?.Report(new UpgradeProgress("store-primary", written, total, n, pkg.Sgc.Components.Count));
                progress?.Report(new UpgradeProgress("copy-secondary", written, total, n, pkg.Sgc.Components.Count));
            }

            // Configuration (and backups) of the current context, then the SGC file, in one commit per device.
            var rest = new List<KeyValuePair<string, byte[]>>();
            foreach (var path in pair.ListCurrent(cancellationToken).Where(p => p.StartsWith(SvmLayout.ConfigurationPrefix, StringComparison.Ordinal)))
            {
                rest.Add(new(path, pair.ReadCurrent(path, cancellationToken)));
            }

            rest.Add(new(SvmLayout.Sgc, pkg.SgcBytes.ToArray()));
            cancellationToken.ThrowIfCancellationRequested();
            StoreVerified(pair, rest, check, cancellationToken);
            RequireRedundancy(pair);
            cancellationToken.ThrowIfCancellationRequested();
            pair.MarkAlternateComplete(pkg.Release.ToString(), cancellationToken);
            RequireRedundancy(pair);
            return CompleteUpgrade(pkg.Sgc, mode, activation, download, copy, affected, written);
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

    /// <summary>Which components an upgrade stores from the package, which it copies from the current context, and which modules it affects.</summary>
    private (IReadOnlyList<SgcComponent> Download, IReadOnlyList<SgcComponent> Copy, IReadOnlyList<ModuleAddress> Affected) PlanUpgrade(SgcFile sgc, SgcFile? currentSgc, UpgradeMode mode)
    {
        var modules = _bus.Modules.Select(m => m.Address).ToList();
        if (mode == UpgradeMode.Partial)
        {
            var diff = sgc.CompareWith(currentSgc!, modules);
            return (diff.Changed, diff.Unchanged, diff.AffectedModules);
        }

        return (sgc.Components, [], modules);
    }

    /// <summary>The alternate is complete on both devices: announce it, warn about programmable devices, activate as the command says.</summary>
    private UpgradeResult CompleteUpgrade(SgcFile sgc, UpgradeMode mode, ActivationMode activation, IReadOnlyList<SgcComponent> download, IReadOnlyList<SgcComponent> copy, IReadOnlyList<ModuleAddress> affected, long written)
    {
        var pair = Storage;
        Raise(SvmEvents.UpgradeCompleted, LogLevel.Information, $"Release {sgc.Release} is complete and verified in the alternate context of both devices (transaction {pair.Sequence})");
        var changes = Node.ProgrammableImages.Changes(sgc, _bus.Modules);
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

        return new UpgradeResult(sgc.Release, mode, download.Select(c => c.Name).ToList(), copy.Select(c => c.Name).ToList(), affected, changes, written);
    }

    /// <summary>A new version must be stored on both devices: a device that went out of service fails the upgrade.</summary>
    private static void RequireRedundancy(RedundantPair pair)
    {
        if (pair.IsDegraded)
        {
            var bad = pair.Members.FirstOrDefault(m => m.IsFailed);
            throw new SvmException($"A storage device went out of service during the upgrade{(bad?.FailureReason is { } r ? ": " + r : "")}; the new version is not redundant.");
        }
    }

    private void MarkAlternateInvalid()
    {
        // Best effort: after a power loss the devices are off and the next init marks a half-written alternate invalid.
        try
        {
            var pair = Storage;
            if (pair.Table.AlternateState != ContextState.Invalid)
            {
                pair.Invalidate(pair.Table.Alternate);
            }
        }
        catch (IOException)
        {
            // Handled at the next init.
        }
        catch (InvalidOperationException)
        {
            // Handled at the next init.
        }
    }

    /// <summary>Sets the alternate boot flag on both devices: the next init trial-boots the alternate context.</summary>
    /// <param name="attempts">Trial attempts; default <see cref="SvmOptions.TrialAttempts"/>.</param>
    /// <exception cref="InvalidOperationException">The alternate is not complete.</exception>
    public void SetAlternateBootFlag(int? attempts = null)
    {
        var t = ReadTable();
        if (t.AlternateState != ContextState.Valid)
        {
            throw new InvalidOperationException($"The alternate context is {t.AlternateState}; only a complete alternate can be trial-booted.");
        }

        RequireAlternateAtFloor("set the alternate boot flag");
        int n = Math.Clamp(attempts ?? _options.TrialAttempts, 1, ushort.MaxValue);
        Storage.SetAlternateBoot(n);
        Raise(SvmEvents.BootFlagSet, LogLevel.Information, $"Alternate boot flag set: the next init trial-boots release {t.AlternateRelease()} ({n} attempt(s))");
    }

    /// <summary>
    /// Exchanges current and alternate contexts (user-initiated switch without a trial): the next init loads the new
    /// current, with the configuration the node runs with now (not the one copied when the upgrade was stored).
    /// </summary>
    /// <exception cref="InvalidOperationException">The alternate is not complete.</exception>
    public void ExchangeContexts()
    {
        var t = ReadTable();
        if (t.AlternateState != ContextState.Valid)
        {
            throw new InvalidOperationException($"The alternate context is {t.AlternateState}; only a complete alternate can become current.");
        }

        RequireAlternateAtFloor("exchange contexts");
        ActivateCarrying(Storage, ConfigurationOf(Storage.Primary, t.Current), CancellationToken.None);
        CommitSecurity(CancellationToken.None);
        Raise(SvmEvents.ContextsExchanged, LogLevel.Information, $"Contexts exchanged: release {t.AlternateRelease()} is current, {t.CurrentRelease()} is the alternate");
    }

    /// <summary>Reads a configuration file of the current context.</summary>
    /// <param name="name">Configuration name.</param>
    /// <returns>The configuration or null when missing.</returns>
    /// <exception cref="SvmFormatException">The file is corrupt.</exception>
    public ConfigurationFile? ReadConfiguration(string name)
    {
        var data = TryReadCurrent(SvmLayout.Configuration(name));
        return data is null ? null : ConfigurationFile.Parse(data);
    }

    /// <summary>
    /// Changes a configuration in the current context of both devices. The previous configuration is stored as the
    /// backup in the same atomic commit (when backups are enabled), primary first, then the secondary.
    /// </summary>
    /// <param name="configuration">The new configuration.</param>
    public void ChangeConfiguration(ConfigurationFile configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var files = new List<KeyValuePair<string, byte[]>>();
        var old = TryReadCurrent(SvmLayout.Configuration(configuration.Name));
        if (_options.ConfigurationBackups && old is not null)
        {
            files.Add(new(SvmLayout.Backup(configuration.Name), old));
        }

        files.Add(new(SvmLayout.Configuration(configuration.Name), configuration.ToBytes()));
        Storage.WriteCurrentConfiguration(files);
        Raise(SvmEvents.ConfigurationChanged, LogLevel.Information, $"Configuration {configuration.Name} changed to revision {configuration.Revision}" + (_options.ConfigurationBackups ? " (previous kept as backup)" : ""));
    }
}

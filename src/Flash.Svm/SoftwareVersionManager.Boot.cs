using System.Diagnostics;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Sgc;
using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>
    /// System initialisation: verifies the primary device (context table, SGC file, components, configuration), falls
    /// back to the secondary and re-designates it when the primary is bad, repairs the bad device from the good one,
    /// re-downloads the software when both are bad, restores a missing or corrupt configuration (backup, then factory
    /// default), runs a pending trial boot (commit or roll back, with retries), and issues the system-wide init command
    /// to the modules that need it. See <c>docs/boot.md</c>.
    /// </summary>
    /// <param name="cancellationToken">Cancels the init.</param>
    /// <returns>What happened.</returns>
    /// <exception cref="NvsUnavailableException">Both devices are bad and no recovery source could restore them.</exception>
    /// <remarks>When a configuration is missing or corrupt and neither its backup nor (by the unattended policy
    /// <see cref="SvmOptions.RestoreFactoryDefaults"/>) a factory default may replace it, the report says
    /// <see cref="BootReport.AwaitingConfiguration"/> and the node waits, software verified and modules not started,
    /// for <see cref="RestoreFactoryDefaults"/> or <see cref="SupplyConfiguration"/>.</remarks>
    public BootReport Initialize(CancellationToken cancellationToken = default)
    {
        var report = new BootReport();
        var events = new List<SvmEventArgs>();
        _capture = events;
        try
        {
            InitializeCore(report, cancellationToken);
        }
        finally
        {
            _capture = null;
            foreach (var e in events)
            {
                report.Events.Add(e);
            }
        }

        return report;
    }

    private void InitializeCore(BootReport report, CancellationToken cancellationToken)
    {
        // 1. Which device was designated primary before this init (read from the designation records).
        ClosePair();
        var designatedBefore = DesignatedPrimary();

        // 2. Mount the pair: reconciliation brings a device that is behind (power cut, dirty, blank) up to date.
        var synced = new HashSet<Guid>();
        RedundantPair? pair = null;
        try
        {
            pair = Run(RedundantPair.MountAsync(_raw[0], _raw[1], PairOptions(new SyncRecorder(synced)), cancellationToken));
        }
        catch (IOException ex)
        {
            Raise(SvmEvents.DeviceBad, LogLevel.Warning, $"Storage pair cannot be mounted: {ex.Message}");
        }

        if (pair is null)
        {
            Recover(report, cancellationToken);
        }
        else
        {
            OpenPair(pair);
            foreach (var m in pair.Members.Where(m => m.IsFailed))
            {
                Raise(SvmEvents.DeviceBad, LogLevel.Warning, $"{NameOf(m)}: {m.FailureReason}", device: NameOf(m));
            }

            if (!ChooseAndRepair(pair, synced, report, cancellationToken))
            {
                Recover(report, cancellationToken);
            }
        }

        pair = Storage;
        if (designatedBefore is not null && !ReferenceEquals(pair.Primary.Device, designatedBefore))
        {
            report.Redesignated = true;
        }

        report.PrimaryDevice = NameOf(pair.Primary);

        // 3. A download interrupted by a crash leaves an alternate marked Writing: it is invalid.
        var t = pair.Table;
        if (t.AlternateState == ContextState.Writing)
        {
            Run(pair.InvalidateAsync(t.Alternate, cancellationToken));
            Raise(SvmEvents.AlternateInvalidated, LogLevel.Warning, "The alternate context was left half-written; marked invalid");
        }

        // 4. Configuration of the current context (restored on both devices); without one the node waits for the operator's choice.
        if (!ResolveConfiguration(report))
        {
            return;
        }

        CompleteInitialization(report, cancellationToken);
    }

    /// <summary>Init after the configuration is in place: steps 5 and 6.</summary>
    private void CompleteInitialization(BootReport report, CancellationToken cancellationToken)
    {
        var pair = Storage;

        // 5. The secondary must now verify too; otherwise it is repaired from the primary.
        var s = pair.Secondary;
        if (s.Table is not null && !s.IsFailed && !report.Recovered && !Verify(s, s.Table.Current, checkConfiguration: true).Ok)
        {
            Repair(pair, s, full: false, report, cancellationToken);
        }

        if (pair.IsDegraded && pair.Members.All(m => !m.IsFailed) && Run(pair.ResynchronizeAsync(cancellationToken)))
        {
            AddRepaired(report, pair.Secondary, SvmEvents.Resynchronised, "resynchronised");
        }

        Raise(SvmEvents.StorageVerified, LogLevel.Information, $"Storage verified: primary {NameOf(pair.Primary)} ({pair.Table})");

        // 6. Trial boot, then the system-wide init command.
        RunBoot(report, cancellationToken);
    }

    /// <summary>Verifies both devices, makes a good one primary and repairs the other. False when neither has good software.</summary>
    private bool ChooseAndRepair(RedundantPair pair, HashSet<Guid> synced, BootReport report, CancellationToken cancellationToken)
    {
        var checks = new Dictionary<PairMember, AreaVerification>();
        foreach (var m in new[] { pair.Primary, pair.Secondary })
        {
            if (m.IsFailed || m.Table is null)
            {
                continue;
            }

            var v = Verify(m, m.Table.Current, checkConfiguration: true);
            checks[m] = v;
            if (!v.Ok)
            {
                Raise(SvmEvents.DeviceBad, LogLevel.Warning, $"{NameOf(m)}: current context: {v.SoftwareError ?? v.ConfigurationError}", device: NameOf(m));
            }
        }

        var chosen = checks.FirstOrDefault(c => c.Value.Ok).Key ?? checks.FirstOrDefault(c => c.Value.SoftwareOk).Key;
        if (chosen is null)
        {
            return false;
        }

        if (!ReferenceEquals(chosen, pair.Primary))
        {
            Run(pair.RedesignateAsync(cancellationToken));
            report.Redesignated = true;
        }

        // Devices the mount reconciliation copied to were behind, blank or damaged.
        foreach (var m in pair.Members.Where(m => synced.Contains(m.DeviceId)))
        {
            AddRepaired(report, m, SvmEvents.DeviceRepaired, "repaired from the other device at mount");
        }

        var other = pair.Secondary;
        if (other.IsFailed || other.Table is null)
        {
            Repair(pair, other, full: true, report, cancellationToken);
        }
        else if (!checks.TryGetValue(other, out var v) || !v.SoftwareOk)
        {
            Repair(pair, other, full: false, report, cancellationToken);
        }

        return true;
    }

    /// <summary>Makes the secondary an exact copy of the primary (<see cref="RedundantPair.ReplaceDeviceAsync"/>); a device whose file system is unusable is formatted first.</summary>
    private void Repair(RedundantPair pair, PairMember member, bool full, BootReport report, CancellationToken cancellationToken)
    {
        var device = member.Device;
        try
        {
            Run(pair.ReplaceDeviceAsync(device, cancellationToken: cancellationToken));
        }
        catch (RedundantPairException) when (full)
        {
            FlashFileSystem.Format(device);
            Raise(SvmEvents.DeviceFormatted, LogLevel.Warning, $"{NameOf(device)}: file system unusable; formatted before the repair", device: NameOf(device));
            Run(pair.ReplaceDeviceAsync(device, cancellationToken: cancellationToken));
        }

        var repaired = pair.Members.First(m => ReferenceEquals(m.Device, device));
        AddRepaired(report, repaired, full ? SvmEvents.DeviceRepaired : SvmEvents.DeviceRepaired, full ? "formatted and repaired from the primary" : "repaired from the primary");
    }

    private void AddRepaired(BootReport report, PairMember member, Microsoft.Extensions.Logging.EventId id, string what)
    {
        string name = NameOf(member);
        if (!report.Repaired.Contains(name))
        {
            report.Repaired.Add(name);
        }

        Raise(id, id == SvmEvents.Resynchronised ? LogLevel.Information : LogLevel.Warning, $"{name} {what}", device: name);
    }

    /// <summary>The device designated primary by the newest valid designation record, or null when none is readable.</summary>
    private IFlashDevice? DesignatedPrimary()
    {
        DesignationRecord? best = null;
        var ids = new Dictionary<Guid, IFlashDevice>();
        foreach (var d in _raw)
        {
            try
            {
                var fs = FlashFileSystem.Mount(d);
                try
                {
                    if (fs.Exists(DesignationRecord.Path) && DesignationRecord.TryDecode(fs.ReadAllBytes(DesignationRecord.Path)) is { } r)
                    {
                        ids[r.DeviceId] = d;
                        if (best is null || r.Generation > best.Generation)
                        {
                            best = r;
                        }
                    }
                }
                finally
                {
                    fs.Unmount();
                }
            }
            catch (IOException)
            {
                // Unreadable: the pair's mount decides.
            }
        }

        if (best is null)
        {
            return null;
        }

        // The designated primary's own record may be unreadable (erased device): it is then the other device.
        return ids.TryGetValue(best.PrimaryId, out var p) ? p : _raw.SingleOrDefault(d => !ids.ContainsValue(d));
    }

    private sealed class SyncRecorder(HashSet<Guid> targets) : IProgress<PairSyncProgress>
    {
        public void Report(PairSyncProgress value)
        {
            lock (targets)
            {
                targets.Add(value.TargetId);
            }
        }
    }

    private void Recover(BootReport report, CancellationToken cancellationToken)
    {
        if (_options.RecoverySource is null)
        {
            Raise(SvmEvents.StorageUnavailable, LogLevel.Critical, "Both storage devices are bad and no recovery source is configured");
            throw new NvsUnavailableException("Both storage devices are bad and no recovery source is configured.");
        }

        Raise(SvmEvents.DeviceBad, LogLevel.Critical, $"Both storage devices are bad; downloading the software again from {_options.RecoverySource}");
        Packages.SoftwarePackage pkg;
        try
        {
            pkg = OpenPackage(Fetch(_options.RecoverySource, cancellationToken));
        }
        catch (IOException ex)
        {
            Raise(SvmEvents.StorageUnavailable, LogLevel.Critical, $"Both storage devices are bad and the recovery download failed: {ex.Message}");
            throw new NvsUnavailableException($"Both storage devices are bad and the recovery download failed: {ex.Message}");
        }

        InstallFresh(pkg, [.. _options.FactoryDefaults.Values]);
        report.Recovered = true;
        Raise(SvmEvents.Recovered, LogLevel.Warning, $"Release {pkg.Release} downloaded again from {_options.RecoverySource} onto both devices (factory configuration)");
    }

    private ConfigurationSource RestoreConfiguration(List<string> unresolved)
    {
        var pair = Storage;
        var result = ConfigurationSource.Stored;
        var files = Run(pair.ListCurrentAsync());
        var names = SvmLayout.ConfigurationNames(files).Union(SvmLayout.BackupNames(files))
            .Union(_options.FactoryDefaults.Keys).Append(ConfigurationFile.NodeName).Distinct().ToList();
        foreach (var name in names)
        {
            if (Parses(TryRead(SvmLayout.Configuration(name))))
            {
                continue;
            }

            var backup = _options.ConfigurationBackups ? TryRead(SvmLayout.Backup(name)) : null;
            if (Parses(backup))
            {
                Run(pair.WriteCurrentConfigurationAsync([new(SvmLayout.Configuration(name), backup)]));
                Raise(SvmEvents.ConfigurationFromBackup, LogLevel.Warning, $"Configuration {name} was missing or corrupt; restored from its backup");
                result = result == ConfigurationSource.FactoryDefault ? result : ConfigurationSource.Backup;
            }
            else if (_options.RestoreFactoryDefaults && _options.FactoryDefaults.TryGetValue(name, out var factory))
            {
                Run(pair.WriteCurrentConfigurationAsync([new(SvmLayout.Configuration(name), factory.ToBytes())]));
                Raise(SvmEvents.ConfigurationFactoryDefault, LogLevel.Warning, $"Configuration {name} was missing or corrupt and has no usable backup; restored the factory default");
                result = ConfigurationSource.FactoryDefault;
            }
            else
            {
                Raise(SvmEvents.ConfigurationFailed, LogLevel.Critical, $"Configuration {name} is missing or corrupt and cannot be restored unattended");
                unresolved.Add(name);
            }
        }

        return result;
    }

    private byte[]? TryRead(string path)
    {
        try
        {
            return TryReadCurrent(path);
        }
        catch (FlashDataCorruptException)
        {
            return null;
        }
    }

    private static bool Parses([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] byte[]? data)
    {
        if (data is null)
        {
            return false;
        }

        try
        {
            ConfigurationFile.Parse(data);
            return true;
        }
        catch (SvmFormatException)
        {
            return false;
        }
    }

    private void RunBoot(BootReport report, CancellationToken cancellationToken)
    {
        var pair = Storage;
        var t = pair.Table;

        // A trial that was interrupted (crash, power cut) before it was confirmed: revert to the previous current.
        if (t.CurrentState == ContextState.Trial)
        {
            if (t.AlternateState == ContextState.Valid)
            {
                var trialRelease = t.CurrentRelease();
                t = Run(pair.SwitchContextsAsync(trial: false, cancellationToken));
                report.Trial = TrialOutcome.RolledBack;
                Raise(SvmEvents.RolledBack, LogLevel.Warning, $"The trial of release {trialRelease} was interrupted before it was committed; reverted to release {t.CurrentRelease()}, {trialRelease} marked invalid");
            }
            else
            {
                t = Run(pair.ConfirmCurrentAsync(cancellationToken));
            }
        }

        if (t.AlternateBoot && t.AlternateState != ContextState.Valid)
        {
            t = Run(pair.ClearAlternateBootAsync(cancellationToken));
        }

        if (t.AlternateBoot)
        {
            int attempts = Math.Max(1, t.BootRetries);
            var release = t.AlternateRelease();
            var v = Verify(pair.Primary, t.Alternate, checkConfiguration: false);
            if (!v.SoftwareOk)
            {
                Raise(SvmEvents.ModuleFailed, LogLevel.Warning, $"Trial of release {release} failed: alternate does not verify: {v.SoftwareError}");
                t = Run(pair.InvalidateAsync(t.Alternate, cancellationToken));
                report.Trial = TrialOutcome.RolledBack;
                Raise(SvmEvents.RolledBack, LogLevel.Warning, $"Rolled back to release {t.CurrentRelease()}; release {release} marked invalid");
            }
            else
            {
                // Switch on trial in one commit per device before any module starts: the boot flag is cleared and the
                // new current is Trial; a crash or power cut during the trial reverts at the next init.
                t = Run(pair.SwitchContextsAsync(trial: true, cancellationToken));
                bool ok = false;
                for (int attempt = 1; attempt <= attempts && !ok; attempt++)
                {
                    report.TrialAttempts++;
                    Raise(SvmEvents.TrialStarted, LogLevel.Information, $"Trial boot of release {release} (attempt {attempt} of {attempts}); boot flag cleared, context on trial");
                    var trial = new BootReport { Release = release, PrimaryDevice = report.PrimaryDevice };
                    InitModules(v.Sgc!, trial, cancellationToken);
                    ok = trial.Healthy && (_options.TrialValidator?.Invoke(trial) ?? true);
                    foreach (var m in trial.InitialisedModules.Where(m => !report.InitialisedModules.Contains(m)))
                    {
                        report.InitialisedModules.Add(m);
                    }

                    if (!ok)
                    {
                        Raise(SvmEvents.ModuleFailed, LogLevel.Warning, $"Trial of release {release} failed: " +
                            (trial.Healthy ? "rejected by the validation callback" : $"module(s) {string.Join(", ", trial.FailedModules)} not healthy"));
                        if (attempt < attempts)
                        {
                            Raise(SvmEvents.TrialRetry, LogLevel.Warning, $"Retrying the trial of release {release} ({attempts - attempt} attempt(s) left)");
                        }
                    }
                }

                if (ok)
                {
                    t = Run(pair.ConfirmCurrentAsync(cancellationToken));
                    report.Trial = TrialOutcome.Committed;
                    Raise(SvmEvents.Committed, LogLevel.Information, $"Trial succeeded: release {t.CurrentRelease()} committed as current; {t.AlternateRelease()} kept as alternate");
                }
                else
                {
                    t = Run(pair.SwitchContextsAsync(trial: false, cancellationToken));
                    report.Trial = TrialOutcome.RolledBack;
                    Raise(SvmEvents.RolledBack, LogLevel.Warning, $"Rolled back to release {t.CurrentRelease()}; release {release} marked invalid");
                }
            }
        }

        // System-wide init command on the current context: modules whose loaded software differs are (re-)initialised.
        var sgc = CurrentSgc();
        report.Release = sgc.Release;
        InitModules(sgc, report, cancellationToken);
    }

    private static string Digest(IReadOnlyList<SgcComponent> components)
        => string.Join(";", components.Select(c => $"{c.Name}:{c.Crc32C:x8}:{c.Size}"));

    private void InitModules(SgcFile sgc, BootReport report, CancellationToken cancellationToken)
    {
        var targets = _bus.Modules.Where(m =>
            !_loaded.TryGetValue(m.Address, out var d) || d != Digest(sgc.ComponentsFor(m.Address)) || m.ReportHealth() != ModuleHealth.Healthy).ToList();
        Raise(SvmEvents.SystemInit, LogLevel.Information,
            $"System-wide init command for release {sgc.Release}: {(targets.Count == _bus.Modules.Count ? "all modules" : targets.Count == 0 ? "no module needs it" : string.Join(", ", targets.Select(m => m.Address)))}");
        var started = new List<IProcessorModule>();
        foreach (var m in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _loaded.Remove(m.Address);
            var components = sgc.ComponentsFor(m.Address);
            var configData = TryRead(SvmLayout.Configuration(ConfigurationFile.ModuleName(m.Address)));
            var ctx = new InitContext(this, sgc.Release, components, configData is null ? null : ConfigurationFile.Parse(configData));
            report.InitialisedModules.Add(m.Address);
            try
            {
                m.Initialize(ctx, cancellationToken);
                started.Add(m);
            }
#pragma warning disable CA1031 // A module crash of any kind is a failed init, never an SVM failure.
            catch (Exception ex) when (ex is not OperationCanceledException)
#pragma warning restore CA1031
            {
                report.FailedModules.Add(m.Address);
                Raise(SvmEvents.ModuleFailed, LogLevel.Error, $"Module {m.Address} crashed during init: {ex.Message}", m.Address);
            }
        }

        // Health: every started module must report healthy within the timeout.
        var sw = Stopwatch.StartNew();
        var pending = started.ToList();
        while (pending.Count > 0)
        {
            pending.RemoveAll(m => m.ReportHealth() == ModuleHealth.Healthy);
            if (pending.Count == 0 || sw.Elapsed >= _options.HealthTimeout)
            {
                break;
            }

            Thread.Sleep(1);
        }

        foreach (var m in started)
        {
            if (pending.Contains(m))
            {
                report.FailedModules.Add(m.Address);
                Raise(SvmEvents.ModuleFailed, LogLevel.Error, $"Module {m.Address} did not report healthy within {_options.HealthTimeout.TotalMilliseconds:0} ms", m.Address);
            }
            else
            {
                _loaded[m.Address] = Digest(sgc.ComponentsFor(m.Address));
                Raise(SvmEvents.ModuleInitialised, LogLevel.Information, $"Module {m.Address} initialised with release {sgc.Release} ({m.ProgrammableDevices().Count} programmable device(s))", m.Address);
            }
        }
    }

    private sealed class InitContext(SoftwareVersionManager svm, SoftwareVersion release, IReadOnlyList<SgcComponent> components, ConfigurationFile? configuration) : IModuleInitContext
    {
        public IReadOnlyList<SgcComponent> Components => components;

        public ConfigurationFile? Configuration => configuration;

        public SoftwareVersion Release => release;

        public ReadOnlyMemory<byte> RequestComponent(string name)
        {
            var c = components.FirstOrDefault(x => x.Name == name) ?? throw new SvmException($"Component {name} is not mapped to this module.");
            var data = svm.TryReadCurrent(SvmLayout.Component(name));
            return data is not null && c.Matches(data) ? data : throw new SvmException($"Component {name} does not verify in the current context of {svm.NameOf(svm.Primary)}.");
        }
    }
}

using System.Diagnostics;
using Flash.Svm.Configuration;
using Flash.Svm.Init;
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
        // 1. Classify each device from a read-only probe, then act: nothing is written before the plan exists, and a
        //    device that is not the node's (foreign, other geometry, dead) is fenced so no step below can write it.
        ClosePair();
        var plan = Plan(report);
        var designatedBefore = DesignatedBefore(plan);
        if (plan.Strategy == InitStrategy.Unavailable)
        {
            RequestReplacement(plan);
        }

        if (plan.Strategy == InitStrategy.Reinstall)
        {
            Recover(report, cancellationToken);
        }
        else
        {
            // 2. Mount the pair: reconciliation brings a device that is behind (power cut, dirty, blank) up to date.
            var synced = new HashSet<Guid>();
            RedundantPair? mounted = null;
            try
            {
                mounted = RedundantPair.Mount(Member(plan, 0), Member(plan, 1), PairOptions(new SyncRecorder(synced)), cancellationToken);
            }
            catch (IOException ex)
            {
                Raise(SvmEvents.DeviceBad, LogLevel.Warning, $"Storage pair cannot be mounted: {ex.Message}");
                RequestReplacement(plan);
            }

            OpenPair(mounted!);
            if (!ChooseAndRepair(mounted!, synced, report, cancellationToken))
            {
                Rebuild(mounted!, report, cancellationToken);
            }

            AdoptForeign(plan, report, cancellationToken);
        }

        var pair = Storage;
        if (designatedBefore is not null && !ReferenceEquals(pair.Primary.Device, designatedBefore))
        {
            report.Redesignated = true;
        }

        report.PrimaryDevice = NameOf(pair.Primary);

        // 3. A download interrupted by a crash leaves an alternate marked Writing: it is invalid.
        var t = pair.Table;
        if (t.AlternateState == ContextState.Writing)
        {
            pair.Invalidate(t.Alternate, cancellationToken);
            Raise(SvmEvents.AlternateInvalidated, LogLevel.Warning, "The alternate context was left half-written; marked invalid");
        }
        else if (t.AlternateState == ContextState.Valid && !AlternateVerifiesSomewhere(pair))
        {
            // Marked complete but good on no device (damaged since, or the predecessor of a rebuilt set): nothing may activate it.
            pair.Invalidate(t.Alternate, cancellationToken);
            Raise(SvmEvents.AlternateInvalidated, LogLevel.Warning, $"The alternate release {t.AlternateRelease()} does not verify on any device; marked invalid");
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
            TryRepair(pair, s, full: false, report, cancellationToken);
        }

        if (pair.IsDegraded && pair.Members.All(m => !m.IsFailed) && pair.Resynchronize(cancellationToken))
        {
            AddRepaired(report, pair.Secondary, SvmEvents.Resynchronised, "resynchronised");
        }

        report.Degraded = pair.IsDegraded;
        Raise(SvmEvents.StorageVerified, LogLevel.Information, $"Storage verified: primary {NameOf(pair.Primary)} ({pair.Table}){(pair.IsDegraded ? $"; degraded, {NameOf(pair.Secondary)} out of service" : "")}");

        // 6. Trial boot, then the system-wide init command.
        RunBoot(report, cancellationToken);
    }

    private bool AlternateVerifiesSomewhere(RedundantPair pair)
        => pair.Members.Any(m => m.Table is { } mt && !m.IsFailed && mt.AlternateState == ContextState.Valid && mt.Alternate == pair.Table.Alternate
            && Verify(m, mt.Alternate, checkConfiguration: false).SoftwareOk);

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
            pair.Redesignate(cancellationToken);
            report.Redesignated = true;
        }

        // Devices the mount reconciliation copied to were behind, blank or damaged.
        foreach (var m in pair.Members.Where(m => synced.Contains(m.DeviceId)))
        {
            AddRepaired(report, m, SvmEvents.DeviceRepaired, "repaired from the other device at mount");
        }

        var other = pair.Secondary;
        if (other.Device is FencedDevice)
        {
            // Foreign, other geometry or dead: reported by the plan, never written.
        }
        else if (other.IsFailed || other.Table is null)
        {
            TryRepair(pair, other, full: true, report, cancellationToken);
        }
        else if (!checks.TryGetValue(other, out var v) || !v.SoftwareOk)
        {
            TryRepair(pair, other, full: false, report, cancellationToken);
        }

        return true;
    }

    /// <summary>A secondary that fails while it is being repaired (it died after the probe) leaves the node running degraded on the primary.</summary>
    private void TryRepair(RedundantPair pair, PairMember member, bool full, BootReport report, CancellationToken cancellationToken)
    {
        try
        {
            Repair(pair, member, full, report, cancellationToken);
        }
        catch (Exception ex) when (ex is FlashException or RedundantPairException && ex is not PairUnavailableException && !pair.Primary.IsFailed)
        {
            Raise(SvmEvents.DeviceBad, LogLevel.Warning, $"{NameOf(member)}: repair failed ({ex.Message}); running on {NameOf(pair.Primary)} alone", device: NameOf(member));
        }
    }

    /// <summary>Makes the secondary an exact copy of the primary (<see cref="RedundantPair.ReplaceDeviceAsync"/>); a device whose file system is unusable is formatted first.</summary>
    private void Repair(RedundantPair pair, PairMember member, bool full, BootReport report, CancellationToken cancellationToken)
    {
        var device = member.Device;
        try
        {
            pair.ReplaceDevice(device, cancellationToken: cancellationToken);
        }
        catch (RedundantPairException) when (full)
        {
            FlashFileSystem.Format(device);
            Raise(SvmEvents.DeviceFormatted, LogLevel.Warning, $"{NameOf(device)}: file system unusable; formatted before the repair", device: NameOf(device));
            pair.ReplaceDevice(device, cancellationToken: cancellationToken);
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
            Raise(SvmEvents.ReplacementRequested, LogLevel.Critical, "Neither storage device holds the node's software and no recovery source is configured: install software on a device (or replace one)");
            Raise(SvmEvents.StorageUnavailable, LogLevel.Critical, "Both storage devices are bad and no recovery source is configured");
            throw new NvsUnavailableException("Both storage devices are bad and no recovery source is configured.");
        }

        // Claim 68: download to the devices, verify, and only then format and install.
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
        var files = pair.ListCurrent();
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
                pair.WriteCurrentConfiguration([new(SvmLayout.Configuration(name), backup)]);
                Raise(SvmEvents.ConfigurationFromBackup, LogLevel.Warning, $"Configuration {name} was missing or corrupt; restored from its backup");
                result = result == ConfigurationSource.FactoryDefault ? result : ConfigurationSource.Backup;
            }
            else if (_options.RestoreFactoryDefaults && _options.FactoryDefaults.TryGetValue(name, out var factory))
            {
                pair.WriteCurrentConfiguration([new(SvmLayout.Configuration(name), factory.ToBytes())]);
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
}

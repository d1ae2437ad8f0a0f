using System.Diagnostics;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Sgc;
using Flash.Svm.Storage;
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
    /// <exception cref="ConfigurationUnavailableException">The configuration is bad and may not be restored.</exception>
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
        // 1. Mount and read both tables.
        var tables = new NvsTable?[2];
        for (int i = 0; i < 2; i++)
        {
            var err = _devices[i].TryMount();
            tables[i] = err is null ? _devices[i].ReadTable(out err) : null;
            if (tables[i] is null)
            {
                Raise(SvmEvents.DeviceBad, LogLevel.Warning, $"{_devices[i]}: {err ?? "no context table"}", device: _devices[i].Name);
            }
        }

        int designated = DesignatedPrimary(tables);

        // 2. Verify the designated primary, then the secondary.
        var checks = new AreaVerification?[2];
        foreach (int i in new[] { designated, 1 - designated })
        {
            if (tables[i] is { } t)
            {
                checks[i] = _devices[i].Verify(t.CurrentArea, checkConfiguration: true);
                if (!checks[i]!.Ok)
                {
                    Raise(SvmEvents.DeviceBad, LogLevel.Warning, $"{_devices[i]}: current context: {checks[i]!.SoftwareError ?? checks[i]!.ConfigurationError}", device: _devices[i].Name);
                }
            }
        }

        int chosen = Choose(designated, checks, c => c.Ok) ?? Choose(designated, checks, c => c.SoftwareOk) ?? -1;
        if (chosen < 0)
        {
            Recover(report, cancellationToken);
            chosen = 0;
            tables[0] = _devices[0].ReadTable(out _);
        }
        else if (chosen != designated || tables[chosen]!.Role != NvsRole.Primary)
        {
            var t = tables[chosen]!;
            ulong seq = Math.Max(tables[0]?.Sequence ?? 0, tables[1]?.Sequence ?? 0) + 1;
            _devices[chosen].WriteTable(t with { Role = NvsRole.Primary, Sequence = seq });
            report.Redesignated = true;
            Raise(SvmEvents.Redesignated, LogLevel.Warning, $"{_devices[1 - chosen]} is bad; {_devices[chosen]} is re-designated as primary", device: _devices[chosen].Name);
        }

        _primary = chosen;
        report.PrimaryDevice = Primary.Name;

        // 3. A download interrupted by a crash leaves an alternate marked Writing: it is invalid.
        var pt = ReadTable();
        if (pt.Alternate == AlternateState.Writing)
        {
            pt = pt with { Alternate = AlternateState.Invalid, AlternateBoot = false, Sequence = pt.Sequence + 1 };
            Primary.WriteTable(pt);
            Raise(SvmEvents.AlternateInvalidated, LogLevel.Warning, $"The alternate context ({pt.AlternateRelease}) was left half-written; marked invalid");
        }

        // 4. Configuration of the primary's current context.
        report.Configuration = RestoreConfiguration(pt.CurrentArea);

        // 5. Repair or resynchronise the secondary from the primary.
        SyncSecondary(report, cancellationToken);
        Raise(SvmEvents.StorageVerified, LogLevel.Information, $"Storage verified: primary {Primary} ({ReadTable()})");

        // 6. Trial boot, then the system-wide init command.
        RunBoot(report, cancellationToken);
    }

    private int DesignatedPrimary(NvsTable?[] tables)
    {
        int best = -1;
        for (int i = 0; i < 2; i++)
        {
            if (tables[i] is { Role: NvsRole.Primary } t && (best < 0 || t.Sequence > tables[best]!.Sequence))
            {
                best = i;
            }
        }

        if (best >= 0)
        {
            return best;
        }

        return tables[1] is not null && (tables[0] is null || tables[1]!.Sequence > tables[0]!.Sequence) ? 1 : 0;
    }

    private static int? Choose(int designated, AreaVerification?[] checks, Func<AreaVerification, bool> good)
    {
        foreach (int i in new[] { designated, 1 - designated })
        {
            if (checks[i] is { } c && good(c))
            {
                return i;
            }
        }

        return null;
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

    private ConfigurationSource RestoreConfiguration(int area)
    {
        var p = Primary;
        var result = ConfigurationSource.Stored;
        var names = p.List(area, AreaFolder.Configuration).Union(p.List(area, AreaFolder.ConfigurationBackup))
            .Union(_options.FactoryDefaults.Keys).Append(ConfigurationFile.NodeName).Distinct().ToList();
        foreach (var name in names)
        {
            if (Parses(p.ReadFile(area, AreaFolder.Configuration, name)))
            {
                continue;
            }

            var backup = _options.ConfigurationBackups ? p.ReadFile(area, AreaFolder.ConfigurationBackup, name) : null;
            if (Parses(backup))
            {
                p.WriteFile(area, AreaFolder.Configuration, name, backup);
                Raise(SvmEvents.ConfigurationFromBackup, LogLevel.Warning, $"Configuration {name} was missing or corrupt; restored from its backup");
                result = result == ConfigurationSource.FactoryDefault ? result : ConfigurationSource.Backup;
            }
            else if (_options.RestoreFactoryDefaults && _options.FactoryDefaults.TryGetValue(name, out var factory))
            {
                p.WriteFile(area, AreaFolder.Configuration, name, factory.ToBytes());
                Raise(SvmEvents.ConfigurationFactoryDefault, LogLevel.Warning, $"Configuration {name} was missing or corrupt and has no usable backup; restored the factory default");
                result = ConfigurationSource.FactoryDefault;
            }
            else
            {
                Raise(SvmEvents.ConfigurationFailed, LogLevel.Critical, $"Configuration {name} is missing or corrupt and cannot be restored");
                throw new ConfigurationUnavailableException(name, $"Configuration {name} is missing or corrupt; no backup or factory default may replace it.");
            }
        }

        return result;
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

    /// <summary>Makes the secondary an exact copy of the primary: full repair when its current context is bad, otherwise copy what differs.</summary>
    private void SyncSecondary(BootReport report, CancellationToken cancellationToken)
    {
        var p = Primary;
        var s = Secondary;
        var pt = ReadTable();
        var st = s.IsMounted ? s.ReadTable(out _) : null;
        bool repaired = false;
        if (st is null || !s.Verify(st.CurrentArea, checkConfiguration: true).SoftwareOk)
        {
            s.Format();
            repaired = true;
        }

        var areas = new List<int> { pt.CurrentArea };
        if (pt.Alternate == AlternateState.Complete)
        {
            areas.Add(pt.AlternateArea);
        }

        bool changed = false;
        foreach (int area in areas)
        {
            if (repaired || !SameArea(p, s, area))
            {
                CopyArea(p, s, area, null, cancellationToken);
                changed = true;
            }
            else if (!SameConfiguration(p, s, area))
            {
                foreach (var folder in new[] { AreaFolder.Configuration, AreaFolder.ConfigurationBackup })
                {
                    foreach (var name in s.List(area, folder).Except(p.List(area, folder)))
                    {
                        s.DeleteFile(area, folder, name);
                    }

                    foreach (var name in p.List(area, folder))
                    {
                        s.WriteFile(area, folder, name, p.ReadFile(area, folder, name)!);
                    }
                }

                changed = true;
            }
        }

        var want = pt with { Role = NvsRole.Secondary };
        if (repaired || st != want)
        {
            s.WriteTable(want);
            changed |= !repaired && (st! with { Sequence = want.Sequence }) != want;
        }

        if (repaired)
        {
            report.Repaired.Add(s.Name);
            Raise(SvmEvents.DeviceRepaired, LogLevel.Warning, $"{s} repaired from {p}", device: s.Name);
        }
        else if (changed)
        {
            report.Repaired.Add(s.Name);
            Raise(SvmEvents.Resynchronised, LogLevel.Information, $"{s} resynchronised with {p}", device: s.Name);
        }
    }

    private static bool SameArea(NvsDevice p, NvsDevice s, int area)
    {
        var a = p.ReadSgc(area);
        var b = s.ReadSgc(area);
        return a is not null && b is not null && a.AsSpan().SequenceEqual(b) && s.Verify(area, checkConfiguration: false).SoftwareOk;
    }

    private static bool SameConfiguration(NvsDevice p, NvsDevice s, int area)
    {
        foreach (var folder in new[] { AreaFolder.Configuration, AreaFolder.ConfigurationBackup })
        {
            var names = p.List(area, folder);
            if (!names.Order(StringComparer.Ordinal).SequenceEqual(s.List(area, folder).Order(StringComparer.Ordinal)))
            {
                return false;
            }

            foreach (var n in names)
            {
                if (!p.ReadFile(area, folder, n)!.AsSpan().SequenceEqual(s.ReadFile(area, folder, n)))
                {
                    return false;
                }
            }
        }

        return true;
    }

    private void RunBoot(BootReport report, CancellationToken cancellationToken)
    {
        var t = ReadTable();
        if (t.AlternateBoot && t.Alternate != AlternateState.Complete)
        {
            UpdateTables(x => x with { AlternateBoot = false, TrialAttemptsLeft = 0 });
            t = ReadTable();
        }

        while (t.AlternateBoot)
        {
            // Clear the flag before any module starts: a crash or power cut during the trial falls back to the current context.
            int left = Math.Max(0, t.TrialAttemptsLeft - 1);
            t = UpdateTables(x => x with { AlternateBoot = false, TrialAttemptsLeft = left });
            report.TrialAttempts++;
            Raise(SvmEvents.TrialStarted, LogLevel.Information, $"Trial boot of release {t.AlternateRelease} (attempt {report.TrialAttempts}, {left} left); boot flag cleared");
            var v = Primary.Verify(t.AlternateArea, checkConfiguration: false);
            bool ok = v.SoftwareOk;
            if (ok)
            {
                var trial = new BootReport { Release = t.AlternateRelease, PrimaryDevice = report.PrimaryDevice };
                InitModules(t.AlternateArea, v.Sgc!, trial, cancellationToken);
                ok = trial.Healthy && (_options.TrialValidator?.Invoke(trial) ?? true);
                foreach (var m in trial.InitialisedModules.Where(m => !report.InitialisedModules.Contains(m)))
                {
                    report.InitialisedModules.Add(m);
                }

                if (!ok)
                {
                    Raise(SvmEvents.ModuleFailed, LogLevel.Warning, $"Trial of release {t.AlternateRelease} failed: " +
                        (trial.Healthy ? "rejected by the validation callback" : $"module(s) {string.Join(", ", trial.FailedModules)} not healthy"));
                }
            }
            else
            {
                Raise(SvmEvents.ModuleFailed, LogLevel.Warning, $"Trial of release {t.AlternateRelease} failed: alternate does not verify: {v.SoftwareError}");
            }

            if (ok)
            {
                var committed = UpdateTables(Swap);
                report.Trial = TrialOutcome.Committed;
                Raise(SvmEvents.Committed, LogLevel.Information, $"Trial succeeded: release {committed.CurrentRelease} committed as current; {committed.AlternateRelease} kept as alternate");
                break;
            }

            if (left > 0 && v.SoftwareOk)
            {
                Raise(SvmEvents.TrialRetry, LogLevel.Warning, $"Retrying the trial of release {t.AlternateRelease} ({left} attempt(s) left)");
                t = UpdateTables(x => x with { AlternateBoot = true });
                continue;
            }

            t = UpdateTables(x => x with { Alternate = AlternateState.Invalid, AlternateBoot = false, TrialAttemptsLeft = 0 });
            report.Trial = TrialOutcome.RolledBack;
            Raise(SvmEvents.RolledBack, LogLevel.Warning, $"Rolled back to release {t.CurrentRelease}; release {t.AlternateRelease} marked invalid");
        }

        // System-wide init command on the current context: modules whose loaded software differs are (re-)initialised.
        t = ReadTable();
        var sgc = SgcFile.Parse(Primary.ReadSgc(t.CurrentArea)!);
        report.Release = sgc.Release;
        InitModules(t.CurrentArea, sgc, report, cancellationToken);
    }

    private static string Digest(IReadOnlyList<SgcComponent> components)
        => string.Join(";", components.Select(c => $"{c.Name}:{c.Crc32C:x8}:{c.Size}"));

    private void InitModules(int area, SgcFile sgc, BootReport report, CancellationToken cancellationToken)
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
            var configData = Primary.ReadFile(area, AreaFolder.Configuration, ConfigurationFile.ModuleName(m.Address));
            var ctx = new InitContext(this, area, sgc.Release, components, configData is null ? null : ConfigurationFile.Parse(configData));
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

    private sealed class InitContext(SoftwareVersionManager svm, int area, SoftwareVersion release, IReadOnlyList<SgcComponent> components, ConfigurationFile? configuration) : IModuleInitContext
    {
        public IReadOnlyList<SgcComponent> Components => components;

        public ConfigurationFile? Configuration => configuration;

        public SoftwareVersion Release => release;

        public ReadOnlyMemory<byte> RequestComponent(string name)
        {
            var c = components.FirstOrDefault(x => x.Name == name) ?? throw new SvmException($"Component {name} is not mapped to this module.");
            var data = svm.Primary.ReadFile(area, AreaFolder.Components, name);
            return data is not null && c.Matches(data) ? data : throw new SvmException($"Component {name} does not verify in {svm.Primary} area {area}.");
        }
    }
}

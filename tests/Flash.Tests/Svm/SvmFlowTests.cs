#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Flash.Ffs.Contexts;

namespace Flash.Tests.Svm;

public class SvmFlowTests
{
    [Fact]
    public void Sgc_roundtrip_and_checksum()
    {
        var pkg = SoftwarePackage.Open(SvmNode.R2, new PackageVerificationOptions { TrustedKeys = [SvmNode.Key.ExportSubjectPublicKeyInfo()] });
        var bytes = pkg.Sgc.ToBytes();
        var back = SgcFile.Parse(bytes);
        Assert.Equal(pkg.Sgc.Release, back.Release);
        Assert.Equal(pkg.Sgc.Components.Count, back.Components.Count);
        Assert.Equal(bytes, back.ToBytes());
        bytes[10] ^= 1;
        Assert.Throws<SvmFormatException>(() => SgcFile.Parse(bytes));
        Assert.Equal(ProgrammableDeviceKind.Fpga, back.Find("traffic-fpga.bit")!.DeviceKind);
        Assert.Equal(["boot.bin", "traffic-app.bin", "traffic-fpga.bit"], back.ComponentsFor(SvmNode.Traffic1).Select(c => c.Name));
    }

    [Fact]
    public void Full_upgrade_trial_boot_and_commit()
    {
        using var node = new SvmNode();
        var boot = node.InstallAndBoot();
        Assert.Equal(new SoftwareVersion(1, 0, 0), boot.Release);
        Assert.Equal(3, boot.InitialisedModules.Count);
        Assert.True(boot.Healthy);

        var progress = new List<UpgradeProgress>();
        var result = node.Svm.Upgrade(new UpgradeCommand(new TransferParameters("mem", "r3.pkg"), UpgradeMode.Full), new SyncProgress(progress));
        Assert.Equal(UpgradeMode.Full, result.Mode);
        Assert.Equal(4, result.Downloaded.Count);
        Assert.Equal(3, result.AffectedModules.Count);
        Assert.Contains(progress, p => p.Phase == "copy-secondary");
        var t = node.Svm.ReadTable();
        Assert.Equal(ContextState.Valid, t.AlternateState);
        Assert.True(t.AlternateBoot);
        Assert.Equal(new SoftwareVersion(1, 0, 0), t.CurrentRelease());

        var svm = node.Reboot();
        var report = svm.Initialize();
        Assert.Equal(TrialOutcome.Committed, report.Trial);
        Assert.Equal(new SoftwareVersion(3, 0, 0), report.Release);
        Assert.All(node.Modules, m => Assert.Equal(new SoftwareVersion(3, 0, 0), m.Release));
        Assert.Equal(new SoftwareVersion(3, 0, 0), svm.ReadTable().CurrentRelease());
        Assert.Equal(new SoftwareVersion(1, 0, 0), svm.ReadTable().AlternateRelease());
        SvmNode.AssertStorageSane(svm);
        Assert.Equal("node-a", svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);
    }

    [Fact]
    public void Partial_upgrade_downloads_only_changes_and_reinitialises_only_affected_modules()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        var result = node.Svm.Upgrade(new UpgradeCommand(new TransferParameters("mem", "r2.pkg")));
        Assert.Equal(UpgradeMode.Partial, result.Mode);
        Assert.Equal(["traffic-app.bin", "traffic-fpga.bit"], result.Downloaded.Order());
        Assert.Equal(["boot.bin", "xc-app.bin"], result.Copied.Order());
        Assert.Equal([SvmNode.Traffic1, SvmNode.Traffic2], result.AffectedModules);
        Assert.Equal(2, result.DeviceChanges.Count);
        Assert.All(result.DeviceChanges, c => Assert.Equal("FPGA0", c.Device));
        var autonomous = node.Events.Where(e => e.Id == SvmEvents.ProgrammableDeviceChange).ToList();
        Assert.Equal(2, autonomous.Count);
        Assert.Equal([SvmNode.Traffic1, SvmNode.Traffic2], autonomous.Select(e => e.Module!.Value));

        // Same SVM instance (node running): the system-wide init acts only on the affected modules.
        var before = node.Modules.Select(m => m.InitCount).ToArray();
        var report = node.Svm.Initialize();
        Assert.Equal(TrialOutcome.Committed, report.Trial);
        Assert.Equal([SvmNode.Traffic1, SvmNode.Traffic2], report.InitialisedModules);
        Assert.Equal(before[2], node.Modules[2].InitCount);
        Assert.Equal(new SoftwareVersion(2, 0, 0), node.Modules[0].Release);
        Assert.Equal("traffic-fpga.bit", node.Modules[0].ProgrammableDevices().Single().Image);
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void Exchange_is_loaded_at_next_init_without_trial()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Svm.Upgrade(SvmNode.R2, activation: ActivationMode.Exchange);
        var report = node.Reboot().Initialize();
        Assert.Equal(TrialOutcome.None, report.Trial);
        Assert.Equal(new SoftwareVersion(2, 0, 0), report.Release);
    }

    [Theory]
    [InlineData(SimulatedFault.NeverHealthy)]
    [InlineData(SimulatedFault.CrashOnInit)]
    public void Faulty_module_rolls_back_and_retries_are_honoured(SimulatedFault fault)
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Modules[2].FaultPredicate = v => v.Major == 3 ? fault : SimulatedFault.None;
        node.Svm.Upgrade(SvmNode.R3, UpgradeMode.Full, ActivationMode.None);
        node.Svm.SetAlternateBootFlag(attempts: 3);
        var report = node.Reboot().Initialize();
        Assert.Equal(TrialOutcome.RolledBack, report.Trial);
        Assert.Equal(3, report.TrialAttempts);
        Assert.Equal(3, report.Events.Count(e => e.Id == SvmEvents.TrialStarted));
        Assert.Equal(2, report.Events.Count(e => e.Id == SvmEvents.TrialRetry));
        Assert.Equal(new SoftwareVersion(1, 0, 0), report.Release);
        Assert.True(report.Healthy);
        Assert.All(node.Modules, m => Assert.Equal(new SoftwareVersion(1, 0, 0), m.Release));
        Assert.Equal(ContextState.Invalid, node.Svm.ReadTable().AlternateState);
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void Validation_callback_can_reject_a_trial()
    {
        using var node = new SvmNode(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
            TrialValidator = r => r.Release.Major != 2,
        });
        node.InstallAndBoot();
        node.Svm.Upgrade(SvmNode.R2);
        var report = node.Reboot().Initialize();
        Assert.Equal(TrialOutcome.RolledBack, report.Trial);
        Assert.Equal(new SoftwareVersion(1, 0, 0), report.Release);
    }

    [Fact]
    public void Corrupt_primary_is_replaced_by_secondary_and_repaired()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        for (int b = 0; b < SvmNode.Geometry.BlockCount; b++)
        {
            node.Dev0.Erase(b);
        }

        var svm = node.Reboot();
        var report = svm.Initialize();
        Assert.True(report.Redesignated);
        Assert.Equal("nvs1", report.PrimaryDevice);
        Assert.Contains("nvs0", report.Repaired);
        Assert.True(report.Healthy);
        SvmNode.AssertStorageSane(svm);
        var again = node.Reboot().Initialize();
        Assert.Equal("nvs1", again.PrimaryDevice);
        Assert.False(again.Redesignated);
        Assert.Empty(again.Repaired);
    }

    [Fact]
    public void Corrupt_component_on_primary_is_detected()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.TamperWrite(node.Dev0, "components/xc-app.bin", new byte[50_000]);
        var report = node.Reboot().Initialize();
        Assert.True(report.Redesignated);
        Assert.Contains(report.Events, e => e.Id == SvmEvents.DeviceRepaired);
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void Both_devices_bad_downloads_again_or_reports()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Dev0.Erase(0);
        node.Dev1.Erase(0);
        for (int b = 0; b < SvmNode.Geometry.BlockCount; b++)
        {
            node.Dev0.Erase(b);
            node.Dev1.Erase(b);
        }

        Assert.Throws<NvsUnavailableException>(() => node.Reboot().Initialize());
        Assert.Contains(node.Events, e => e.Id == SvmEvents.StorageUnavailable);

        using var node2 = new SvmNode(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
            RecoverySource = new TransferParameters("mem", "r1.pkg"),
        }, node.Dev0, node.Dev1);
        var report = node2.Svm.Initialize();
        Assert.True(report.Recovered);
        Assert.Equal(new SoftwareVersion(1, 0, 0), report.Release);
        Assert.Equal("factory", node2.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);
        SvmNode.AssertStorageSane(node2.Svm);
    }

    [Fact]
    public void Configuration_change_keeps_backup_and_fallback_order()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        var cfg = node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!;
        node.Svm.ChangeConfiguration(cfg.With("hostname", "node-b"));
        Assert.Equal("node-b", node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);

        // Corrupt current config on both devices: the backup (node-a) comes back.
        foreach (var d in new[] { node.Dev0, node.Dev1 })
        {
            node.TamperWrite(d, "config/" + ConfigurationFile.NodeName, [1, 2, 3]);
        }

        var report = node.Reboot().Initialize();
        Assert.Equal(ConfigurationSource.Backup, report.Configuration);
        Assert.Contains(report.Events, e => e.Id == SvmEvents.ConfigurationFromBackup);
        Assert.Equal("node-a", node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);

        // Config and backup gone: factory default.
        foreach (var d in new[] { node.Dev0, node.Dev1 })
        {
            node.TamperDelete(d, "config/" + ConfigurationFile.NodeName);
            node.TamperWrite(d, "config/backup/" + ConfigurationFile.NodeName, [9]);
        }

        report = node.Reboot().Initialize();
        Assert.Equal(ConfigurationSource.FactoryDefault, report.Configuration);
        Assert.Equal("factory", node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);

        // No backups, no factory default: init says so and waits for the operator (claim 54; SvmFactoryChoiceTests).
        foreach (var d in new[] { node.Dev0, node.Dev1 })
        {
            node.TamperDelete(d, "config/" + ConfigurationFile.NodeName);
        }

        using var strict = new SvmNode(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, HealthTimeout = o.HealthTimeout, ConfigurationBackups = false, RestoreFactoryDefaults = false,
        }, node.Dev0, node.Dev1);
        var waiting = strict.Svm.Initialize();
        Assert.Equal([ConfigurationChoice.SupplyConfiguration], waiting.ConfigurationUnavailable!.Choices);
        var ex = Assert.Throws<ConfigurationUnavailableException>(() => strict.Svm.RestoreFactoryDefaults());
        Assert.Equal(ConfigurationFile.NodeName, ex.Name);
        Assert.Contains(strict.Events, e => e.Id == SvmEvents.ConfigurationFailed);
    }

    [Fact]
    public void Cancelled_upgrade_leaves_current_and_marks_alternate_invalid()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress([], p =>
        {
            if (p.Components == 2)
            {
                cts.Cancel();
            }
        });
        Assert.ThrowsAny<OperationCanceledException>(() => node.Svm.Upgrade(SvmNode.R3, UpgradeMode.Full, progress: progress, cancellationToken: cts.Token));
        Assert.Equal(ContextState.Invalid, node.Svm.ReadTable().AlternateState);
        var report = node.Reboot().Initialize();
        Assert.Equal(new SoftwareVersion(1, 0, 0), report.Release);
        Assert.Equal(TrialOutcome.None, report.Trial);
        SvmNode.AssertStorageSane(node.Svm);
    }

    internal sealed class SyncProgress(List<UpgradeProgress> list, Action<UpgradeProgress>? also = null) : IProgress<UpgradeProgress>
    {
        public void Report(UpgradeProgress value)
        {
            list.Add(value);
            also?.Invoke(value);
        }
    }
}

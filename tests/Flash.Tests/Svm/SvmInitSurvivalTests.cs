#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Init;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm;

/// <summary>Init boots on whatever survives (issue 17, failures 1–5): foreign, dead and odd-geometry devices, and bad parts on both devices.</summary>
public class SvmInitSurvivalTests
{
    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);

    private static string Hostname(SoftwareVersionManager svm) => svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"];

    /// <summary>Release 1 installed, hostname changed to node-b (so the factory configuration would show).</summary>
    private static SvmNode Installed(Func<SvmOptions, SvmOptions>? tweak = null, FlashSimulator? dev0 = null, FlashSimulator? dev1 = null)
    {
        var node = new SvmNode(tweak, dev0, dev1);
        node.InstallAndBoot();
        node.Svm.ChangeConfiguration(node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.With("hostname", "node-b"));
        node.Svm.Dispose();
        return node;
    }

    private static (long Programs, long Erases) Writes(IFlashDevice d) => (d.Statistics.PagePrograms, d.Statistics.BlockErases);

    [Fact]
    public void Another_nodes_device_is_left_untouched_and_the_node_boots_on_its_own()
    {
        using var other = new SvmNode();
        other.Svm.FormatAndInstall(SvmNode.R2, [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "elsewhere" })]);
        other.Svm.Dispose();
        using var node = Installed();

        var svm = new SoftwareVersionManager(node.Dev0, other.Dev1, node.Bus, node.Options);
        var before = Writes(other.Dev1);
        var report = svm.Initialize();
        Assert.Equal(V1, report.Release);
        Assert.Equal("node-b", Hostname(svm));
        Assert.Equal(DeviceCondition.Foreign, report.Devices[1].Condition);
        Assert.Equal(DeviceAction.Fence, report.Devices[1].Action);
        Assert.True(report.Degraded);
        Assert.Contains(report.Events, e => e.Id == SvmEvents.DeviceBad && e.Device == "nvs1" && e.Message.Contains("Foreign", StringComparison.Ordinal));
        Assert.Equal(before, Writes(other.Dev1));
        Assert.False(report.Recovered);
        svm.Dispose();

        // The foreign device still boots its own node.
        var back = new SoftwareVersionManager(other.Dev0, other.Dev1, other.Bus, other.Options).Initialize();
        Assert.Equal(V2, back.Release);
    }

    [Fact]
    public void With_the_node_pair_id_known_a_foreign_device_in_slot_0_is_recognised()
    {
        using var other = new SvmNode();
        other.Svm.FormatAndInstall(SvmNode.R2, [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "elsewhere" })]);
        other.Svm.Dispose();
        var pairId = Guid.NewGuid();
        using var node = Installed(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout, PairId = pairId,
        });

        var svm = new SoftwareVersionManager(other.Dev0, node.Dev1, node.Bus, node.Options);
        var report = svm.Initialize();
        Assert.Equal(V1, report.Release);
        Assert.Equal("nvs1", report.PrimaryDevice);
        Assert.Equal(DeviceCondition.Foreign, report.Devices[0].Condition);
        Assert.Equal("node-b", Hostname(svm));
        Assert.Equal(pairId, svm.Storage.PairId);
        svm.Dispose();
    }

    [Fact]
    public void A_foreign_device_is_adopted_only_when_allowed()
    {
        using var other = new SvmNode();
        other.Svm.FormatAndInstall(SvmNode.R2, [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "elsewhere" })]);
        other.Svm.Dispose();
        using var node = Installed(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout, AdoptForeignDevice = true,
        });

        var svm = new SoftwareVersionManager(node.Dev0, other.Dev1, node.Bus, node.Options);
        var report = svm.Initialize();
        Assert.Equal(DeviceAction.Adopt, report.Devices[1].Action);
        Assert.Contains("nvs1", report.Repaired);
        Assert.Equal(V1, report.Release);
        Assert.Equal("node-b", Hostname(svm));
        SvmNode.AssertStorageSane(svm);
        svm.Dispose();
    }

    [Fact]
    public void A_dead_device_is_reported_and_the_node_boots_degraded_on_the_other()
    {
        using var node = Installed();
        using var dead = new DeadDevice(SvmNode.Geometry);
        var svm = new SoftwareVersionManager(dead, node.Dev1, node.Bus, node.Options);
        var report = svm.Initialize();
        Assert.Equal(V1, report.Release);
        Assert.Equal("nvs1", report.PrimaryDevice);
        Assert.True(report.Degraded);
        Assert.Equal(DeviceCondition.Dead, report.Devices[0].Condition);
        Assert.Contains(report.Events, e => e.Id == SvmEvents.DeviceBad && e.Device == "nvs0" && e.Message.Contains("dead device", StringComparison.Ordinal));
        Assert.Equal("node-b", Hostname(svm));
        Assert.True(report.Healthy);
        Assert.Contains("degraded", report.ToString(), StringComparison.Ordinal);
        svm.Dispose();
    }

    [Fact]
    public void A_device_dying_after_the_probe_leaves_the_node_running_degraded()
    {
        using var node = Installed();
        using var dying = new DyingDevice(node.Dev1, readsBeforeDeath: 200);
        node.TamperWrite(node.Dev1, SvmLayout.Component("boot.bin"), [7, 7, 7]);
        var svm = new SoftwareVersionManager(node.Dev0, dying, node.Bus, node.Options);
        var report = svm.Initialize();
        Assert.Equal(V1, report.Release);
        Assert.Equal("nvs0", report.PrimaryDevice);
        Assert.True(report.Degraded);
        Assert.Equal("node-b", Hostname(svm));
        svm.Dispose();
    }

    [Fact]
    public void A_blank_replacement_of_another_geometry_is_reported_and_left_alone()
    {
        using var node = Installed();
        using var odd = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, 16, 256), Seed = 9 });
        var svm = new SoftwareVersionManager(node.Dev0, odd, node.Bus, node.Options);
        var before = Writes(odd);
        var report = svm.Initialize();
        Assert.Equal(DeviceCondition.OtherGeometry, report.Devices[1].Condition);
        Assert.Equal(V1, report.Release);
        Assert.Equal("node-b", Hostname(svm));
        Assert.Equal(before, Writes(odd));
        svm.Dispose();
    }

    [Fact]
    public void Both_devices_dead_requests_a_replacement()
    {
        using var a = new DeadDevice(SvmNode.Geometry);
        using var b = new DeadDevice(SvmNode.Geometry);
        using var node = new SvmNode();
        var svm = new SoftwareVersionManager(a, b, node.Bus, node.Options);
        var events = new List<SvmEventArgs>();
        svm.Event += (_, e) => events.Add(e);
        Assert.Throws<NvsUnavailableException>(() => svm.Initialize());
        Assert.Contains(events, e => e.Id == SvmEvents.ReplacementRequested);
    }

    [Fact]
    public void Different_corrupt_components_on_each_device_are_combined_without_a_download()
    {
        using var node = Installed(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
            RecoverySource = new TransferParameters("mem", "r2.pkg"),
        });
        node.TamperWrite(node.Dev0, SvmLayout.Component("boot.bin"), [1, 2, 3]);
        node.TamperWrite(node.Dev1, SvmLayout.Component("xc-app.bin"), [4, 5, 6]);
        var svm = node.Reboot();
        var report = svm.Initialize();
        Assert.Equal(InitStrategy.Rebuild, svm.LastPlan!.Strategy);
        Assert.False(report.Recovered);
        Assert.Equal(V1, report.Release);
        Assert.Equal("node-b", Hostname(svm));
        Assert.Contains(report.Events, e => e.Id == SvmEvents.Rebuilt);
        Assert.True(report.Healthy);
        SvmNode.AssertStorageSane(svm);
        svm.Dispose();
    }

    [Fact]
    public void Both_current_sets_bad_falls_back_to_a_valid_alternate_release_with_the_current_configuration()
    {
        using var node = Installed();
        var svm = node.Reboot();
        svm.Initialize();
        svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.None);
        svm.ChangeConfiguration(svm.ReadConfiguration(ConfigurationFile.NodeName)!.With("hostname", "node-c"));
        node.TamperWrite(node.Dev0, SvmLayout.Component("traffic-app.bin"), [1]);
        node.TamperWrite(node.Dev1, SvmLayout.Component("traffic-app.bin"), [2]);
        svm = node.Reboot();
        var report = svm.Initialize();
        Assert.Equal(V2, report.Release);
        Assert.Equal("node-c", Hostname(svm));
        Assert.Contains(report.Events, e => e.Id == SvmEvents.Rebuilt);
        SvmNode.AssertStorageSane(svm);
        svm.Dispose();
    }

    [Fact]
    public void An_alternate_below_the_anti_rollback_floor_is_not_fallen_back_to()
    {
        using var node = Installed();
        var svm = node.Reboot();
        svm.Initialize();
        svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.Exchange);
        node.TamperWrite(node.Dev0, SvmLayout.Component("traffic-app.bin"), [1]);
        node.TamperWrite(node.Dev1, SvmLayout.Component("traffic-app.bin"), [2]);
        svm = node.Reboot();
        var events = new List<SvmEventArgs>();
        svm.Event += (_, e) => events.Add(e);
        Assert.Throws<NvsUnavailableException>(() => svm.Initialize());
        Assert.Contains(events, e => e.Id == SvmEvents.ReplacementRequested);
        svm.Dispose();
    }

    [Fact]
    public void Recovery_downloads_into_the_alternate_and_keeps_the_configuration()
    {
        using var node = Installed(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
            RecoverySource = new TransferParameters("mem", "r2.pkg"),
        });
        node.TamperWrite(node.Dev0, SvmLayout.Component("boot.bin"), [1, 2, 3]);
        node.TamperWrite(node.Dev1, SvmLayout.Component("boot.bin"), [4, 5, 6]);
        var svm = node.Reboot();
        var report = svm.Initialize();
        Assert.True(report.Recovered);
        Assert.Equal(V2, report.Release);
        Assert.Equal("node-b", Hostname(svm));
        SvmNode.AssertStorageSane(svm);
        svm.Dispose();
    }

    [Fact]
    public void A_secondary_failing_during_init_never_costs_the_configuration()
    {
        // Failure 4: a corrupt component on the primary, the secondary losing power at each point of the init's repair.
        for (int cut = 1; cut <= 40; cut += 3)
        {
            using var node = Installed(o => new SvmOptions
            {
                Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
                RecoverySource = new TransferParameters("mem", "r1.pkg"),
            });
            node.TamperWrite(node.Dev0, SvmLayout.Component("traffic-app.bin"), [9, 9, 9]);
            var svm = node.Reboot();
            node.Dev1.CutPowerAfter(cut);
            try
            {
                svm.Initialize();
            }
            catch (IOException)
            {
                // The cut may stop this init; the next one must still find the configuration.
            }

            svm.Dispose();
            svm = node.Reboot();
            var report = svm.Initialize();
            Assert.Equal(V1, report.Release);
            Assert.Equal("node-b", Hostname(svm));
            SvmNode.AssertStorageSane(svm);
            svm.Dispose();
        }
    }
}

/// <summary>A device that answers nothing: every access fails as if it had no power.</summary>
internal sealed class DeadDevice(FlashGeometry geometry) : IFlashDevice
{
    public FlashGeometry Geometry { get; } = geometry;

    public FlashStatistics Statistics { get; } = new(geometry.BlockCount);

    public ReadResult Read(int page, Span<byte> data, Span<byte> spare) => throw new PowerLossException("dead device");

    public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare) => throw new PowerLossException("dead device");

    public void Erase(int block) => throw new PowerLossException("dead device");

    public bool IsBad(int block) => throw new PowerLossException("dead device");

    public void MarkBad(int block) => throw new PowerLossException("dead device");

    public void Dispose()
    {
    }
}

/// <summary>A device that works for a number of reads (enough for the probe) and then answers nothing.</summary>
internal sealed class DyingDevice(IFlashDevice inner, int readsBeforeDeath) : IFlashDevice
{
    private int _reads;

    public FlashGeometry Geometry => inner.Geometry;

    public FlashStatistics Statistics => inner.Statistics;

    public ReadResult Read(int page, Span<byte> data, Span<byte> spare)
        => ++_reads > readsBeforeDeath ? throw new PowerLossException("device died") : inner.Read(page, data, spare);

    public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
    {
        if (_reads > readsBeforeDeath)
        {
            throw new PowerLossException("device died");
        }

        inner.Program(page, data, spare);
    }

    public void Erase(int block)
    {
        if (_reads > readsBeforeDeath)
        {
            throw new PowerLossException("device died");
        }

        inner.Erase(block);
    }

    public bool IsBad(int block) => inner.IsBad(block);

    public void MarkBad(int block) => inner.MarkBad(block);

    public void Dispose()
    {
    }
}

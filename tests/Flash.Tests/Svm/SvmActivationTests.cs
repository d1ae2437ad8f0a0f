#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm;

/// <summary>Issue 17, failures 6–8: configuration at activation, autonomous messages per image, module faults.</summary>
public class SvmActivationTests
{
    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);

    private static string Hostname(SoftwareVersionManager svm) => svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"];

    private static void ChangeHostname(SoftwareVersionManager svm, string name) => svm.ChangeConfiguration(svm.ReadConfiguration(ConfigurationFile.NodeName)!.With("hostname", name));

    [Theory]
    [InlineData("trial")]
    [InlineData("flag")]
    [InlineData("exchange")]
    public void A_configuration_changed_after_the_upgrade_goes_with_the_activated_release(string how)
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Svm.Upgrade(SvmNode.R2, UpgradeMode.Full, how == "trial" ? ActivationMode.TrialBoot : ActivationMode.None);
        ChangeHostname(node.Svm, "node-b");
        if (how == "flag")
        {
            node.Svm.SetAlternateBootFlag();
        }
        else if (how == "exchange")
        {
            node.Svm.ExchangeContexts();
            Assert.Equal("node-b", Hostname(node.Svm));
        }

        node.Svm.Dispose();
        var svm = node.Reboot();
        var report = svm.Initialize();
        Assert.Equal(V2, report.Release);
        Assert.Equal("node-b", Hostname(svm));
        SvmNode.AssertStorageSane(svm);
        svm.Dispose();
    }

    [Fact]
    public void A_rolled_back_trial_keeps_the_configuration_changed_meanwhile()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Modules[0].FaultPredicate = r => r == V2 ? SimulatedFault.CrashOnInit : SimulatedFault.None;
        node.Svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.TrialBoot);
        ChangeHostname(node.Svm, "node-b");
        node.Svm.Dispose();
        var svm = node.Reboot();
        var report = svm.Initialize();
        Assert.Equal(TrialOutcome.RolledBack, report.Trial);
        Assert.Equal(V1, report.Release);
        Assert.Equal("node-b", Hostname(svm));
        svm.Dispose();
    }

    /// <summary>Release n with a CPLD image on the xconnect (unchanged across releases) and, from release 2 on (when <paramref name="remap"/>), the unchanged traffic FPGA image also mapped to the xconnect.</summary>
    private static byte[] CpldRelease(int n, bool remap, int fpga = 1)
    {
        var comps = new List<PackageComponent>
        {
            new("boot.bin", new SoftwareVersion(1, (ushort)n, 0), SvmNode.Content("boot.bin", n, 4_000)),
            new("traffic-fpga.bit", new SoftwareVersion(1, (ushort)fpga, 0), SvmNode.Content("traffic-fpga.bit", fpga, 8_000), ProgrammableDeviceKind.Fpga, "FPGA0"),
            new("xc-cpld.jed", new SoftwareVersion(1, 0, 0), SvmNode.Content("xc-cpld.jed", 1, 2_000), ProgrammableDeviceKind.Cpld, "CPLD0"),
        };
        var maps = new List<SgcMapping>
        {
            new("traffic", SgcMapping.AnySlot, "boot.bin"),
            new("xconnect", SgcMapping.AnySlot, "boot.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-fpga.bit"),
            new("xconnect", SgcMapping.AnySlot, "xc-cpld.jed"),
        };
        if (remap)
        {
            maps.Add(new("xconnect", SgcMapping.AnySlot, "traffic-fpga.bit"));
        }

        return SoftwarePackage.Build(new SoftwareVersion((ushort)n, 0, 0), comps, maps, SvmNode.Key);
    }

    private static string Announced(UpgradeResult r) => string.Join(" ", r.DeviceChanges.Select(c => $"{c.Module}:{c.Device}").Order(StringComparer.Ordinal));

    [Theory]
    [InlineData(UpgradeMode.Full, false, 1, "")]
    [InlineData(UpgradeMode.Partial, false, 1, "")]
    [InlineData(UpgradeMode.Full, false, 2, "traffic@1:FPGA0 traffic@2:FPGA0")]
    [InlineData(UpgradeMode.Partial, false, 2, "traffic@1:FPGA0 traffic@2:FPGA0")]
    [InlineData(UpgradeMode.Partial, true, 1, "xconnect@5:FPGA0")]
    [InlineData(UpgradeMode.Full, true, 2, "traffic@1:FPGA0 traffic@2:FPGA0 xconnect@5:FPGA0")]
    public void Autonomous_messages_name_exactly_the_devices_whose_image_changes(UpgradeMode mode, bool remap, int fpga, string expected)
    {
        using var node = new SvmNode();
        node.Svm.FormatAndInstall(CpldRelease(1, remap: false), [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "node-a" })]);
        node.Svm.Initialize();
        var events = new List<SvmEventArgs>();
        node.Svm.Event += (_, e) => events.Add(e);
        var result = node.Svm.Upgrade(CpldRelease(2, remap, fpga), mode, ActivationMode.TrialBoot);
        Assert.Equal(expected, Announced(result));
        Assert.Equal(result.DeviceChanges.Count, events.Count(e => e.Id == SvmEvents.ProgrammableDeviceChange));

        // What was announced is what init programs.
        node.Svm.Dispose();
        var svm = node.Reboot(resetModules: false);
        var before = node.Bus.Modules.ToDictionary(m => m.Address, m => m.ProgrammableDevices().ToDictionary(d => d.Name, d => (d.Image, d.ImageVersion)));
        svm.Initialize();
        var programmed = node.Bus.Modules.SelectMany(m => m.ProgrammableDevices()
            .Where(d => !before[m.Address].TryGetValue(d.Name, out var old) || old != (d.Image, d.ImageVersion))
            .Select(d => $"{m.Address}:{d.Name}")).Order(StringComparer.Ordinal);
        Assert.Equal(expected, string.Join(" ", programmed));
        svm.Dispose();
    }

    [Fact]
    public void A_module_cancelling_its_own_init_fails_the_trial_not_the_init()
    {
        using var node = new SvmNode();
        var odd = new FaultyModule(new ModuleAddress("probe", 9), release => release == V2 ? FaultyModule.Mode.Cancel : FaultyModule.Mode.Fine);
        node.Bus.Add(odd);
        node.InstallAndBoot();
        node.Svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.TrialBoot);
        node.Svm.Dispose();
        var svm = node.Reboot();
        var report = svm.Initialize();
        Assert.Equal(TrialOutcome.RolledBack, report.Trial);
        Assert.Equal(V1, report.Release);
        Assert.Contains(report.Events, e => e.Id == SvmEvents.ModuleFailed && e.Message.Contains("cancelled its own init", StringComparison.Ordinal));
        svm.Dispose();
    }

    [Fact]
    public void A_module_hanging_in_its_init_is_abandoned_after_the_health_timeout()
    {
        using var node = new SvmNode();
        using var hang = new FaultyModule(new ModuleAddress("probe", 9), _ => FaultyModule.Mode.Hang);
        node.Bus.Add(hang);
        node.Svm.FormatAndInstall(SvmNode.R1, [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "node-a" })]);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var report = node.Svm.Initialize();
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"init took {sw.Elapsed}");
        Assert.Contains(hang.Address, report.FailedModules);
        Assert.Contains(report.Events, e => e.Id == SvmEvents.ModuleFailed && e.Message.Contains("abandoned", StringComparison.Ordinal));
        Assert.Equal(V1, report.Release);
        Assert.True(hang.SawCancellation.Wait(TimeSpan.FromSeconds(5)), "the abandoned init was not cancelled");
        node.Svm.Dispose();
    }

    [Fact]
    public void Cancelling_init_itself_still_throws()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Svm.Dispose();
        var svm = node.Reboot();
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => svm.Initialize(cts.Token));
        svm.Dispose();
    }
}

/// <summary>A module that works, cancels its own init, or hangs in it (until its token is cancelled or the test ends).</summary>
internal sealed class FaultyModule(ModuleAddress address, Func<SoftwareVersion, FaultyModule.Mode> mode) : IProcessorModule, IDisposable
{
    private readonly ManualResetEventSlim _release = new();
    private ModuleHealth _health = ModuleHealth.Down;

    public enum Mode
    {
        Fine,
        Cancel,
        Hang,
    }

    public ModuleAddress Address { get; } = address;

    public ManualResetEventSlim SawCancellation { get; } = new();

    public void LoadComponent(SgcComponent component, ReadOnlyMemory<byte> image)
    {
    }

    public void Initialize(IModuleInitContext context, CancellationToken cancellationToken)
    {
        _health = ModuleHealth.Starting;
        switch (mode(context.Release))
        {
            case Mode.Cancel:
                throw new OperationCanceledException("the module gave up");
            case Mode.Hang:
                using (cancellationToken.Register(SawCancellation.Set))
                {
                    _release.Wait(TimeSpan.FromSeconds(30), CancellationToken.None);
                }

                return;
            default:
                _health = ModuleHealth.Healthy;
                return;
        }
    }

    public ModuleHealth ReportHealth() => _health;

    public IReadOnlyList<ProgrammableDeviceStatus> ProgrammableDevices() => [];

    public void Dispose()
    {
        _release.Set();
        _release.Dispose();
        SawCancellation.Dispose();
    }
}

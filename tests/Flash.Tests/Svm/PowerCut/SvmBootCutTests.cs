#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using static Flash.Tests.Svm.PowerCut.SvmCutSweeper;

namespace Flash.Tests.Svm.PowerCut;

/// <summary>Power cuts during init: trial commit and rollback (durable attempts), repair, rebuild from parts, recovery download, alternate fallback.</summary>
public class SvmBootCutTests
{
    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);

    private static void Init(SvmNode n) => n.Svm.Initialize();

    private static void HostnameIs(string expected, SvmNode n) => Assert.Equal(expected, Hostname(n.Svm));

    private static SvmOptions WithRecovery(SvmOptions o) => new()
    {
        Packages = o.Packages, Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
        RecoverySource = new TransferParameters("mem", "r2.pkg"),
    };

    private static void InstalledAsNodeB(SvmNode n)
    {
        n.InstallAndBoot();
        ChangeHostname(n.Svm, "node-b");
    }

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Trial_boot_and_commit(CutMode mode) => Sweep(new("trial-commit", n =>
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2);
        ChangeHostname(n.Svm, "node-b");
    }, Init, [V1, V2], InitFirst: false, Check: (n, _) => HostnameIs("node-b", n)), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Trial_boot_with_three_attempts_and_rollback(CutMode mode) => Sweep(new("trial-rollback", n =>
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2, activation: ActivationMode.None);
        n.Svm.SetAlternateBootFlag(3);
    }, Init, [V1], Crashes(2, 2), InitFirst: false), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Init_repairs_a_corrupt_primary(CutMode mode) => Sweep(new("init-repair", n =>
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2, activation: ActivationMode.None);
        n.TamperWrite(n.Dev0, "components/boot.bin", new byte[100]);
    }, Init, [V1], InitFirst: false), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Init_combines_good_parts_of_both_devices(CutMode mode) => Sweep(new("init-combine", n =>
    {
        InstalledAsNodeB(n);
        n.TamperWrite(n.Dev0, "components/boot.bin", [1, 2, 3]);
        n.TamperWrite(n.Dev1, "components/xc-app.bin", [4, 5, 6]);
    }, Init, [V1], InitFirst: false, Check: (n, _) => HostnameIs("node-b", n)), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Init_recovers_by_download_keeping_the_configuration(CutMode mode) => Sweep(new("init-recovery", n =>
    {
        InstalledAsNodeB(n);
        n.TamperWrite(n.Dev0, "components/boot.bin", [1, 2, 3]);
        n.TamperWrite(n.Dev1, "components/boot.bin", [4, 5, 6]);
    }, Init, [V1, V2], InitFirst: false, Options: WithRecovery, Check: (n, _) => HostnameIs("node-b", n)), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Init_falls_back_to_a_valid_alternate(CutMode mode) => Sweep(new("init-alternate", n =>
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.None);
        ChangeHostname(n.Svm, "node-c");
        n.TamperWrite(n.Dev0, "components/traffic-app.bin", [1]);
        n.TamperWrite(n.Dev1, "components/traffic-app.bin", [2]);
    }, Init, [V2], InitFirst: false, Check: (n, _) => HostnameIs("node-c", n)), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Init_fills_a_blank_replacement(CutMode mode) => Sweep(new("init-fill-blank", n =>
    {
        InstalledAsNodeB(n);
        n.Svm.Dispose();
        for (int b = 0; b < n.Dev1.Geometry.BlockCount; b++)
        {
            n.Dev1.Erase(b);
        }
    }, Init, [V1], InitFirst: false, Check: (n, _) => HostnameIs("node-b", n)), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Factory_install(CutMode mode) => Sweep(new("factory-install", _ => { }, n => n.Svm.FormatAndInstall(SvmNode.R1,
        [new Flash.Svm.Configuration.ConfigurationFile(Flash.Svm.Configuration.ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "node-a" })]),
        [V1, V2], InitFirst: false, Options: WithRecovery, Check: (n, _) => Assert.Contains(Hostname(n.Svm), new[] { "node-a", "factory" })), mode);
}

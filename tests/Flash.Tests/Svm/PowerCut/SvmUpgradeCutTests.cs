#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Svm;
using Flash.Svm.Sgc;
using static Flash.Tests.Svm.PowerCut.SvmCutSweeper;

namespace Flash.Tests.Svm.PowerCut;

/// <summary>Power cuts in the running node's flows: upgrades (full, partial, churned), configuration change, exchange, boot flag.</summary>
public class SvmUpgradeCutTests
{
    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);
    private static readonly SoftwareVersion V3 = new(3, 0, 0);

    private static void OnR1WithR2Stored(SvmNode n)
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.None);
        ChangeHostname(n.Svm, "node-b");
    }

    private static void HostnameIs(string expected, SvmNode n, BootReport _) => Assert.Equal(expected, Hostname(n.Svm));

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Full_upgrade(CutMode mode)
        => Sweep(new("full-upgrade", n => n.InstallAndBoot(), n => n.Svm.Upgrade(SvmNode.R3, UpgradeMode.Full), [V1, V3]), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Partial_upgrade(CutMode mode)
        => Sweep(new("partial-upgrade", n => n.InstallAndBoot(), n => n.Svm.Upgrade(SvmNode.R2, UpgradeMode.Partial), [V1, V2]), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Churned_upgrade(CutMode mode) => Sweep(new("churned-upgrade", n =>
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2, UpgradeMode.Partial, ActivationMode.Exchange);
    }, n =>
    {
        n.Svm.Upgrade(SvmNode.R3, UpgradeMode.Full, ActivationMode.None);
        ChangeHostname(n.Svm, "churn");
        n.Svm.Upgrade(SvmNode.R3, UpgradeMode.Partial, ActivationMode.TrialBoot);
    }, [V2, V3]), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Configuration_change(CutMode mode) => Sweep(new("configuration-change", n => n.InstallAndBoot(), n => ChangeHostname(n.Svm, "changed"), [V1],
        Check: (n, _) => Assert.Contains(Hostname(n.Svm), new[] { "node-a", "changed" })), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Exchange_carries_the_configuration(CutMode mode)
        => Sweep(new("exchange", OnR1WithR2Stored, n => n.Svm.ExchangeContexts(), [V1, V2], Check: (n, r) => HostnameIs("node-b", n, r)), mode);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Boot_flag(CutMode mode)
        => Sweep(new("boot-flag", OnR1WithR2Stored, n => n.Svm.SetAlternateBootFlag(2), [V1, V2], Check: (n, r) => HostnameIs("node-b", n, r)), mode);
}

using Flash.Svm.Management.Upgrades;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Tests.Upgrades;

public sealed class UpgradeTransitionsTests
{
    private static readonly SoftwareVersion R1 = new(1, 0, 0);
    private static readonly SoftwareVersion R2 = new(2, 0, 0);

    [Theory]
    [InlineData(UpgradeState.Idle, UpgradeRequest.Download, null)]
    [InlineData(UpgradeState.Committed, UpgradeRequest.Download, null)]
    [InlineData(UpgradeState.RolledBack, UpgradeRequest.Download, null)]
    [InlineData(UpgradeState.Failed, UpgradeRequest.Download, null)]
    [InlineData(UpgradeState.Downloading, UpgradeRequest.Download, UpgradeRefusal.InstallInProgress)]
    [InlineData(UpgradeState.Validated, UpgradeRequest.Download, UpgradeRefusal.InstallInProgress)]
    [InlineData(UpgradeState.Activated, UpgradeRequest.Download, UpgradeRefusal.InstallInProgress)]
    [InlineData(UpgradeState.Downloading, UpgradeRequest.Cancel, null)]
    [InlineData(UpgradeState.Validated, UpgradeRequest.Cancel, null)]
    [InlineData(UpgradeState.Activated, UpgradeRequest.Cancel, UpgradeRefusal.NothingToCancel)]
    [InlineData(UpgradeState.Idle, UpgradeRequest.Cancel, UpgradeRefusal.NothingToCancel)]
    [InlineData(UpgradeState.Validated, UpgradeRequest.Activate, null)]
    [InlineData(UpgradeState.Downloading, UpgradeRequest.Activate, UpgradeRefusal.InstallInProgress)]
    [InlineData(UpgradeState.Idle, UpgradeRequest.Activate, UpgradeRefusal.NothingToActivate)]
    [InlineData(UpgradeState.Committed, UpgradeRequest.Activate, UpgradeRefusal.NothingToActivate)]
    [InlineData(UpgradeState.Activated, UpgradeRequest.Accept, null)]
    [InlineData(UpgradeState.Activated, UpgradeRequest.Revert, null)]
    [InlineData(UpgradeState.Validated, UpgradeRequest.Accept, UpgradeRefusal.NotActivated)]
    [InlineData(UpgradeState.Committed, UpgradeRequest.Revert, UpgradeRefusal.NotActivated)]
    public void PolicyAllowsOnlyTheDocumentedRequests(UpgradeState state, UpgradeRequest request, UpgradeRefusal? expected)
        => Assert.Equal(expected, UpgradeTransitions.Check(state, request));

    [Fact]
    public void ReconcileFollowsTheContextsAfterARestart()
    {
        var s = UpgradeStatus.Initial with { Target = R2, Previous = R1, Sequence = 5 };
        // The copy the download left in the new release, whose trial passed.
        Assert.Equal(UpgradeState.Activated, UpgradeTransitions.Reconcile(s with { State = UpgradeState.Downloading }, R2, R1).State);
        Assert.Equal(UpgradeState.Activated, UpgradeTransitions.Reconcile(s with { State = UpgradeState.Validated }, R2, R1).State);
        // A download cut by a restart: SVM discarded the half-written alternate.
        var cut = UpgradeTransitions.Reconcile(s with { State = UpgradeState.Downloading, Target = default }, R1, null);
        Assert.Equal((UpgradeState.Failed, UpgradeOutcome.Interrupted), (cut.State, cut.Outcome));
        Assert.Equal(UpgradeState.Validated, UpgradeTransitions.Reconcile(s with { State = UpgradeState.Validated }, R1, R2).State);
        Assert.Equal(UpgradeState.Failed, UpgradeTransitions.Reconcile(s with { State = UpgradeState.Validated }, R1, null).State);
        Assert.Equal(UpgradeState.Activated, UpgradeTransitions.Reconcile(s with { State = UpgradeState.Activated }, R2, R1).State);
        var back = UpgradeTransitions.Reconcile(s with { State = UpgradeState.Activated }, R1, R2);
        Assert.Equal((UpgradeState.RolledBack, UpgradeOutcome.TrialFailed), (back.State, back.Outcome));
        foreach (var settled in new[] { UpgradeState.Idle, UpgradeState.Committed, UpgradeState.RolledBack, UpgradeState.Failed })
        {
            Assert.Equal(s with { State = settled }, UpgradeTransitions.Reconcile(s with { State = settled }, R1, R2));
        }
    }
}

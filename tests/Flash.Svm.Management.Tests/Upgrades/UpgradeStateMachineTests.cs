#pragma warning disable xUnit1051 // SVM calls are synchronous.
using Flash.Ffs.Contexts;
using Flash.Svm.Management.Upgrades;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Tests.Upgrades;

public sealed class UpgradeStateMachineTests
{
    private static readonly SoftwareVersion R1 = new(1, 0, 0);
    private static readonly SoftwareVersion R2 = new(2, 0, 0);

    [Fact]
    public void DownloadActivateAcceptSurvivesRestartsAtEveryStep()
    {
        using var node = new ManagedNode();
        var seen = new List<UpgradeState>();
        node.Machine.Changed += (_, s) => seen.Add(s.State);
        var v = node.DownloadAndWait("r2.pkg");
        Assert.Equal((UpgradeState.Validated, R2, R1), (v.State, v.Target, v.Previous));
        Assert.Equal([UpgradeState.Downloading, UpgradeState.Validated], seen);
        Assert.Equal(UpgradeState.Validated, node.Restart().State);
        Assert.Equal(R1, node.Svm.ReadTable().CurrentRelease());

        var report = node.Machine.Activate();
        Assert.Equal(TrialOutcome.Committed, report.Trial);
        Assert.Equal(UpgradeState.Activated, node.Machine.Status.State);
        Assert.Equal(R2, node.Svm.ReadTable().CurrentRelease());
        Assert.Equal(UpgradeState.Activated, node.Restart().State);

        node.Machine.Accept();
        var done = node.Restart();
        Assert.Equal((UpgradeState.Committed, R2), (done.State, done.Target));
        Assert.True(done.Sequence >= 4);

        // A new install may start again.
        Assert.Equal(UpgradeState.Validated, node.DownloadAndWait("r3.pkg").State);
    }

    [Fact]
    public async Task ASecondInstallIsRefusedWhileOneRunsAndCancelStopsIt()
    {
        var slow = new BlockingSource(ManagedNode.Release(2, ManagedNode.Key));
        using var node = new ManagedNode(extraSource: slow);
        var tableBefore = node.Svm.ReadTable();
        var running = node.Machine.StartDownload(new TransferParameters("slow", "r2.pkg"));
        Assert.True(slow.Started.Wait(TimeSpan.FromSeconds(10)));
        Assert.Equal(UpgradeState.Downloading, node.Machine.Status.State);
        var refused = Assert.Throws<UpgradeRefusedException>(() => { _ = node.Machine.StartDownload(new TransferParameters("mem", "r3.pkg")); });
        Assert.Equal(UpgradeRefusal.InstallInProgress, refused.Reason);
        Assert.Equal(UpgradeRefusal.InstallInProgress, Assert.Throws<UpgradeRefusedException>(() => node.Machine.Activate()).Reason);
        node.Machine.Cancel();
        await running.WaitAsync(TimeSpan.FromSeconds(10));
        var s = node.Machine.Status;
        Assert.Equal((UpgradeState.Idle, UpgradeOutcome.Cancelled), (s.State, s.Outcome));
        Assert.Equal(tableBefore.CurrentRelease(), node.Svm.ReadTable().CurrentRelease());
        Assert.NotEqual(ContextState.Valid, node.Svm.ReadTable().AlternateState);
    }

    [Fact]
    public void CancellingAValidatedReleaseDiscardsTheAlternate()
    {
        using var node = new ManagedNode();
        node.DownloadAndWait("r2.pkg");
        node.Machine.Cancel();
        Assert.Equal(UpgradeOutcome.Cancelled, node.Machine.Status.Outcome);
        Assert.Equal(ContextState.Invalid, node.Svm.ReadTable().AlternateState);
        Assert.Equal(UpgradeRefusal.NothingToActivate, Assert.Throws<UpgradeRefusedException>(() => node.Machine.Activate()).Reason);
        Assert.Equal(UpgradeState.Idle, node.Restart().State);
    }

    [Fact]
    public void AFailingTrialRollsBack()
    {
        using var node = new ManagedNode();
        foreach (var m in node.Modules)
        {
            m.FaultPredicate = r => r == R2 ? SimulatedFault.NeverHealthy : SimulatedFault.None;
        }

        node.DownloadAndWait("r2.pkg");
        var report = node.Machine.Activate();
        Assert.Equal(TrialOutcome.RolledBack, report.Trial);
        var s = node.Machine.Status;
        Assert.Equal((UpgradeState.RolledBack, UpgradeOutcome.TrialFailed), (s.State, s.Outcome));
        Assert.Equal(R1, node.Svm.ReadTable().CurrentRelease());
        Assert.Equal(UpgradeState.RolledBack, node.Restart().State);
    }

    [Fact]
    public void RevertGoesBackToThePreviousRelease()
    {
        using var node = new ManagedNode();
        node.DownloadAndWait("r2.pkg");
        node.Machine.Activate();
        var report = node.Machine.Revert();
        Assert.Equal(R1, report.Release);
        var s = node.Restart();
        Assert.Equal((UpgradeState.RolledBack, UpgradeOutcome.Reverted, R1), (s.State, s.Outcome, node.Svm.ReadTable().CurrentRelease()));
        Assert.All(node.Modules, m => Assert.Equal(R1, m.Release));
    }

    [Theory]
    [InlineData("foreign.pkg", UpgradeOutcome.PackageRejected)]
    [InlineData("missing.pkg", UpgradeOutcome.TransferFailed)]
    public void ABadPackageFailsAndLeavesTheRunningReleaseAlone(string path, UpgradeOutcome outcome)
    {
        using var node = new ManagedNode();
        var s = node.DownloadAndWait(path);
        Assert.Equal((UpgradeState.Failed, outcome), (s.State, s.Outcome));
        Assert.Equal(R1, node.Svm.ReadTable().CurrentRelease());
        Assert.Equal(UpgradeRefusal.NothingToActivate, Assert.Throws<UpgradeRefusedException>(() => node.Machine.Activate()).Reason);
        Assert.Equal(UpgradeState.Failed, node.Restart().State);
    }

    [Fact]
    public async Task ACorruptRecordStartsIdleAndIsRewritten()
    {
        using var node = new ManagedNode();
        node.DownloadAndWait("r2.pkg");
        await node.Svm.Storage.WriteCurrentConfigurationAsync([new(NvsUpgradeStateStore.Path, [1, 2, 3])]);
        var s = node.Restart();
        Assert.Equal(UpgradeState.Idle, s.State);
        Assert.NotNull(new NvsUpgradeStateStore(node.Svm).Read());
    }

    [Fact]
    public void APowerCutWhileStoringAStateLeavesTheOldOrTheNewState()
    {
        // Count the device operations of one stored change (Accept), then cut power after each of them.
        long mutations;
        using (var dry = new ManagedNode())
        {
            dry.DownloadAndWait("r2.pkg");
            dry.Machine.Activate();
            long before = dry.Dev0.MutationCount + dry.Dev1.MutationCount;
            dry.Machine.Accept();
            mutations = dry.Dev0.MutationCount + dry.Dev1.MutationCount - before;
        }

        Assert.True(mutations > 0);
        int step = int.Parse(Environment.GetEnvironmentVariable("FLASH_MGMT_CUT_STEP") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        for (long k = 1; k <= mutations; k += step)
        {
            using var node = new ManagedNode();
            node.DownloadAndWait("r2.pkg");
            node.Machine.Activate();
            long d0 = node.Dev0.MutationCount;
            // Cuts on device 0 for the first part, device 1 after (mirrored writes go primary first).
            var dev = k <= mutations / 2 ? node.Dev0 : node.Dev1;
            dev.CutPowerAfter(dev == node.Dev0 ? k : k - mutations / 2);
            try
            {
                node.Machine.Accept();
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                // The cut.
            }

            _ = d0;
            var s = node.Restart();
            Assert.True(s.State is UpgradeState.Activated or UpgradeState.Committed, $"cut after {k}: {s.State}");
            Assert.Equal(R2, node.Svm.ReadTable().CurrentRelease());
        }
    }
}

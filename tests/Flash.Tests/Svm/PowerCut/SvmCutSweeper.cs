#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Sgc;
using Flash.Tests.PowerLoss;

namespace Flash.Tests.Svm.PowerCut;

/// <summary>Where a sweep cuts power: at a mutation of one device while the other runs on, or node-wide (both devices at the same instant).</summary>
#pragma warning disable CA1515 // xunit theory data must be public.
public enum CutMode
{
    Device0,
    Device1,
    NodeWide,
}

/// <summary>
/// Cuts power at mutations of one SVM flow and checks the node after each cut: rebooted (fresh SVM, devices powered
/// up), it boots an acceptable release with a valid configuration, both devices identical and verified, the alternate
/// complete-and-verified or unusable, and it boots the same again without repairs. The exhaustive profile
/// (<c>FLASH_TEST_PROFILE=exhaustive</c>) cuts at every mutation of every mode; the quick profile at
/// <see cref="QuickPointsPerMode"/> evenly spread ones (first and last included). Every cut is counted in
/// <c>FLASH_POWERCUT_REPORT</c> as workload <c>svm-&lt;flow&gt;-&lt;mode&gt;</c>.
/// </summary>
internal static class SvmCutSweeper
{
    /// <summary>Cut points per mode and flow in the quick profile.</summary>
    public const int QuickPointsPerMode = 112;

    public sealed record Flow(
        string Name,
        Action<SvmNode> Prepare,
        Action<SvmNode> Operation,
        SoftwareVersion[] Acceptable,
        Action<SvmNode>? Faults = null,
        bool InitFirst = true,
        Func<SvmOptions, SvmOptions>? Options = null,
        Action<SvmNode, BootReport>? Check = null);

    public static int Sweep(Flow flow, CutMode mode)
    {
        FlashSimulatorSnapshot s0;
        FlashSimulatorSnapshot s1;
        using (var baseline = new SvmNode(flow.Options))
        {
            flow.Prepare(baseline);
            baseline.Svm.Dispose();
            s0 = baseline.Dev0.Snapshot();
            s1 = baseline.Dev1.Snapshot();
        }

        long m;
        using (var dry = Restore(flow, s0, s1))
        {
            long a0 = dry.Dev0.MutationCount;
            long a1 = dry.Dev1.MutationCount;
            flow.Operation(dry);
            m = mode switch
            {
                CutMode.Device0 => dry.Dev0.MutationCount - a0,
                CutMode.Device1 => dry.Dev1.MutationCount - a1,
                _ => dry.Dev0.MutationCount - a0 + dry.Dev1.MutationCount - a1,
            };
        }

        int cuts = 0;
        foreach (long k in Points(m))
        {
            using var node = Restore(flow, s0, s1);
            switch (mode)
            {
                case CutMode.Device0:
                    node.Dev0.CutPowerAfter(k);
                    break;
                case CutMode.Device1:
                    node.Dev1.CutPowerAfter(k);
                    break;
                default:
                    node.Power!.CutAfter(k);
                    break;
            }

            try
            {
                flow.Operation(node);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                // The cut stopped the flow (or the flow refused to go on after a device went out of service).
            }

            node.Svm.Dispose();
            cuts++;
            string where = $"{flow.Name}: cut at mutation {k} of {m} ({mode})";
            var svm = node.Reboot();
            BootReport report;
            try
            {
                report = svm.Initialize();
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"{where}: init failed: {ex}");
            }

            Assert.True(flow.Acceptable.Contains(report.Release), $"{where}: booted {report.Release}");
            Assert.True(report.Healthy || flow.Faults is not null, $"{where}: modules failed");
            SvmNode.AssertStorageSane(svm);
            Assert.True(svm.ReadConfiguration(ConfigurationFile.NodeName) is not null, $"{where}: no node configuration");
            flow.Check?.Invoke(node, report);
            svm.Dispose();

            var again = node.Reboot().Initialize();
            Assert.Equal(report.Release, again.Release);
            Assert.Empty(again.Repaired);
            node.Svm.Dispose();
        }

        PowerCutReport.AddWorkload($"svm-{flow.Name}-{mode}", cuts, 0);
        return cuts;
    }

    private static IEnumerable<long> Points(long m)
    {
        if (m <= 0)
        {
            return [];
        }

        if (PowerLossProfile.Exhaustive || m <= QuickPointsPerMode)
        {
            return Enumerable.Range(1, (int)m).Select(i => (long)i);
        }

        var set = new SortedSet<long>();
        for (int i = 0; i < QuickPointsPerMode; i++)
        {
            set.Add(1 + ((m - 1) * i / (QuickPointsPerMode - 1)));
        }

        return set;
    }

    private static SvmNode Restore(Flow flow, FlashSimulatorSnapshot s0, FlashSimulatorSnapshot s1)
    {
        var node = new SvmNode(flow.Options, FlashSimulator.FromSnapshot(s0), FlashSimulator.FromSnapshot(s1));
        node.Svm.Dispose();
        node.Power = new NodePower(node.Dev0, node.Dev1);
        flow.Faults?.Invoke(node);
        node.Reboot();
        if (flow.InitFirst)
        {
            node.Svm.Initialize();
        }

        return node;
    }

    public static string Hostname(SoftwareVersionManager svm) => svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"];

    public static void ChangeHostname(SoftwareVersionManager svm, string name) => svm.ChangeConfiguration(svm.ReadConfiguration(ConfigurationFile.NodeName)!.With("hostname", name));

    public static Action<SvmNode> Crashes(int module, int major) => n => n.Modules[module].FaultPredicate = v => v.Major == major ? SimulatedFault.CrashOnInit : SimulatedFault.None;
}

#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;

namespace Flash.Tests.Svm;

/// <summary>
/// A power cut at every device mutation of the operator's choice (claim 54), on each device: after a reboot the node
/// either boots with the chosen configuration or waits for the choice again, never with a half-restored one.
/// </summary>
public class SvmFactoryChoicePowerCutTests
{
    private static SvmOptions Attended(SvmOptions o) => new()
    {
        Packages = o.Packages, Sources = o.Sources, HealthTimeout = o.HealthTimeout, FactoryDefaults = o.FactoryDefaults, RestoreFactoryDefaults = false,
    };

    private static readonly ConfigurationFile Supplied = new(ConfigurationFile.NodeName, 5, new Dictionary<string, string> { ["hostname"] = "operator" });

    [Theory]
    [InlineData("factory")]
    [InlineData("supplied")]
    public void Power_cut_at_every_mutation_of_the_choice(string choice)
    {
        FlashSimulatorSnapshot s0;
        FlashSimulatorSnapshot s1;
        using (var baseline = new SvmNode(Attended))
        {
            baseline.InstallAndBoot();
            foreach (var d in new[] { baseline.Dev0, baseline.Dev1 })
            {
                baseline.TamperDelete(d, "config/" + ConfigurationFile.NodeName);
                baseline.TamperDelete(d, "config/backup/" + ConfigurationFile.NodeName);
            }

            s0 = baseline.Dev0.Snapshot();
            s1 = baseline.Dev1.Snapshot();
        }

        string expected = choice == "factory" ? "factory" : "operator";
        void Choose(SoftwareVersionManager svm)
        {
            if (choice == "factory")
            {
                svm.RestoreFactoryDefaults();
            }
            else
            {
                svm.SupplyConfiguration([Supplied]);
            }
        }

        // Dry run: the choice's mutations on each device (the rest of init included).
        long m0;
        long m1;
        using (var dry = new SvmNode(Attended, FlashSimulator.FromSnapshot(s0), FlashSimulator.FromSnapshot(s1)))
        {
            Assert.True(dry.Svm.Initialize().AwaitingConfiguration);
            long a0 = dry.Dev0.MutationCount;
            long a1 = dry.Dev1.MutationCount;
            Choose(dry.Svm);
            m0 = dry.Dev0.MutationCount - a0;
            m1 = dry.Dev1.MutationCount - a1;
        }

        Assert.True(m0 > 0 && m1 > 0, "the choice must write on both devices");
        int cuts = 0;
        foreach (int device in new[] { 0, 1 })
        {
            for (long k = 1; k <= (device == 0 ? m0 : m1); k++)
            {
                using var node = new SvmNode(Attended, FlashSimulator.FromSnapshot(s0), FlashSimulator.FromSnapshot(s1));
                Assert.True(node.Svm.Initialize().AwaitingConfiguration);
                (device == 0 ? node.Dev0 : node.Dev1).CutPowerAfter(k);
                try
                {
                    Choose(node.Svm);
                }
                catch (Exception ex) when (ex is IOException or InvalidOperationException)
                {
                }

                cuts++;
                var report = node.Reboot().Initialize();
                if (report.AwaitingConfiguration)
                {
                    Assert.Equal([ConfigurationFile.NodeName], report.ConfigurationUnavailable!.Names);
                    Choose(node.Svm);
                }

                Assert.False(report.AwaitingConfiguration, $"cut {k} on nvs{device}: still waiting");
                Assert.True(report.Healthy, $"cut {k} on nvs{device}: modules failed");
                Assert.Equal(expected, node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);
                SvmNode.AssertStorageSane(node.Svm);
            }
        }

        PowerLoss.PowerCutReport.AddWorkload("svm-config-choice-" + choice, cuts, 0);
    }
}

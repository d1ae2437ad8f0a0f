using System.Diagnostics;
using Flash.Svm.Management.Tl1;
using Flash.Svm.Management.Upgrades;
using Flash.Svm.Node;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Tests.Tl1;

/// <summary>A ring of nodes, each with its own NVS pair and TL1 agent on loopback, upgraded one after the other over TL1.</summary>
public sealed class Tl1RingUpgradeTests
{
    private static readonly SoftwareVersion R1 = new(1, 0, 0);
    private static readonly SoftwareVersion R2 = new(2, 0, 0);

    [Fact]
    public async Task AFailingTrialStopsTheRollAndTheOthersKeepTheirRelease()
    {
        var ring = Enumerable.Range(0, 4).Select(_ => AgentFixture.Start()).ToList();
        try
        {
            foreach (var m in ring[2].Node.Modules)
            {
                m.FaultPredicate = r => r == R2 ? SimulatedFault.NeverHealthy : SimulatedFault.None;
            }

            var roll = new Tl1RingUpgrade("ADMIN", AgentFixture.AdminPassword, "mem:r2.pkg");
            var results = await roll.RollAsync(ring.Select(f => f.Endpoint).ToList(), TestContext.Current.CancellationToken);
            Assert.Equal([RingNodeOutcome.Committed, RingNodeOutcome.Committed, RingNodeOutcome.RolledBack, RingNodeOutcome.Skipped], results.Select(r => r.Outcome));
            Assert.Equal([R2, R2, R1, R1], ring.Select(f => f.Node.Svm.ReadTable().CurrentRelease()));
            Assert.Equal([UpgradeState.Committed, UpgradeState.Committed, UpgradeState.RolledBack, UpgradeState.Idle], ring.Select(f => f.Node.Machine.Status.State));
            Assert.All(ring[2].Node.Modules, m => Assert.Equal(R1, m.Release));
        }
        finally
        {
            foreach (var f in ring)
            {
                await f.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task TheTimeOfARollGrowsWithTheRing()
    {
        var times = new List<(int N, double Seconds)>();
        foreach (int n in new[] { 1, 2, 4 })
        {
            var ring = Enumerable.Range(0, n).Select(_ => AgentFixture.Start()).ToList();
            try
            {
                var clock = Stopwatch.StartNew();
                var results = await new Tl1RingUpgrade("ADMIN", AgentFixture.AdminPassword, "mem:r2.pkg").RollAsync(ring.Select(f => f.Endpoint).ToList(), TestContext.Current.CancellationToken);
                times.Add((n, clock.Elapsed.TotalSeconds));
                Assert.All(results, r => Assert.Equal(RingNodeOutcome.Committed, r.Outcome));
                Assert.All(ring, f => Assert.Equal(R2, f.Node.Svm.ReadTable().CurrentRelease()));
            }
            finally
            {
                foreach (var f in ring)
                {
                    await f.DisposeAsync();
                }
            }
        }

        // Reported, not asserted (performance goals live in benchmarks): a roll is sequential, so it grows linearly.
        TestContext.Current.SendDiagnosticMessage("ring roll: " + string.Join(", ", times.Select(t => $"N={t.N} {t.Seconds:0.00} s ({t.Seconds / t.N:0.00} s/node)")));
        Console.WriteLine("ring roll: " + string.Join(", ", times.Select(t => $"N={t.N} {t.Seconds:0.00} s ({t.Seconds / t.N:0.00} s/node)")));
    }
}

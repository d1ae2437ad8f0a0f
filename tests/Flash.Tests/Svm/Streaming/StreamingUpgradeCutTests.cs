#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Ffs.Contexts;
using Flash.Svm;
using Flash.Svm.Sgc;
using Flash.Tests.Svm.PowerCut;
using static Flash.Tests.Svm.PowerCut.SvmCutSweeper;
using static Flash.Tests.Svm.Streaming.StreamingReleases;

namespace Flash.Tests.Svm.Streaming;

/// <summary>
/// Power cuts at the mutations of a streaming install (per device and node-wide): after each cut the node boots the
/// old release with its configuration, and the same command run again ends with the new release complete and
/// verified in the alternate, continuing from what was stored (not from zero) whenever a component had been stored.
/// </summary>
public class StreamingUpgradeCutTests
{
    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);

    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Streaming_upgrade(CutMode mode)
    {
        var source = new StreamingTestSource();
        source.Add("r2.pkg", R2);
        var resumed = 0;
        var cuts = Sweep(new("streaming-upgrade", n => n.InstallAndBoot(), n => n.Svm.Upgrade(Command("r2.pkg")), [V1],
            Options: o => With(o, source),
            Check: (n, _) =>
            {
                Assert.Equal("node-a", Hostname(n.Svm));
                var attempts = source.StartOffsets.Count;
                var result = n.Svm.Upgrade(Command("r2.pkg"));
                Assert.Equal(V2, result.Release);
                var t = n.Svm.ReadTable();
                Assert.Equal(ContextState.Valid, t.AlternateState);
                Assert.Equal(V2, t.AlternateRelease());
                SvmNode.AssertStorageSane(n.Svm);
                Assert.DoesNotContain(StreamingUpgradeTests.AlternateFiles(n.Svm), f => f.StartsWith("install/", StringComparison.Ordinal));
                if (source.StartOffsets.Count == attempts || source.StartOffsets[^1] > 0)
                {
                    resumed++;
                }
            }), mode);

        Assert.True(cuts > 0);
        Assert.True(resumed > cuts / 2, $"only {resumed} of {cuts} re-runs continued from the stored part");
    }
}

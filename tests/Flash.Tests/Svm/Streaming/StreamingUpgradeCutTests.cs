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

    /// <summary>
    /// The same sweep over a package whose largest component spans two slices
    /// (<c>traffic-app.bin</c>, 300,000 bytes): a cut after its first slice is durable resumes inside the component,
    /// the stored part re-hashed from the primary, and the whole component still verifies.
    /// </summary>
    [Theory]
    [InlineData(CutMode.Device0)]
    [InlineData(CutMode.Device1)]
    [InlineData(CutMode.NodeWide)]
    public void Streaming_upgrade_with_a_multi_slice_component(CutMode mode)
    {
        var package = Release(2, scale: 5);
        var header = Flash.Svm.Packages.PackageHeader.TryParse(package, new Flash.Svm.Packages.PackageVerificationOptions())!;
        Assert.Contains(header.Entries, e => e.Length > 256 * 1024);
        var boundaries = header.Entries.Select(e => header.Length + e.Offset + e.Length).Append(header.Length).ToHashSet();
        var source = new StreamingTestSource { ChunkSize = 64 * 1024 };
        source.Add("r2.pkg", package);
        var insideComponent = 0;
        var cuts = Sweep(new("streaming-upgrade-slices", n => n.InstallAndBoot(), n => n.Svm.Upgrade(Command("r2.pkg")), [V1],
            Options: o => With(o, source),
            Check: (n, _) =>
            {
                var attempts = source.StartOffsets.Count;
                var result = n.Svm.Upgrade(Command("r2.pkg"));
                Assert.Equal(V2, result.Release);
                Assert.Equal(ContextState.Valid, n.Svm.ReadTable().AlternateState);
                SvmNode.AssertStorageSane(n.Svm);
                Assert.DoesNotContain(StreamingUpgradeTests.AlternateFiles(n.Svm), f => f.StartsWith("install/", StringComparison.Ordinal));
                foreach (var dev in n.Svm.Devices)
                {
                    Assert.True(n.Svm.Verify(dev, dev.Table!.Alternate, checkConfiguration: false).SoftwareOk);
                }

                if (source.StartOffsets.Count > attempts && !boundaries.Contains(source.StartOffsets[^1]) && source.StartOffsets[^1] > 0)
                {
                    insideComponent++;
                }
            }), mode);

        Assert.True(cuts > 0);
        Assert.True(insideComponent > 0, $"none of {cuts} re-runs resumed inside a component");
    }
}

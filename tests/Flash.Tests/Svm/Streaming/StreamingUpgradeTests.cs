#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Ffs.Contexts;
using Flash.Svm;
using Flash.Svm.Sgc;
using static Flash.Tests.Svm.Streaming.StreamingReleases;

namespace Flash.Tests.Svm.Streaming;

/// <summary>The upgrade command over a streaming source: stored as it arrives, resumed after failures and power cuts.</summary>
public class StreamingUpgradeTests
{
    private static readonly SoftwareVersion V1 = new(1, 0, 0);
    private static readonly SoftwareVersion V2 = new(2, 0, 0);
    private static readonly SoftwareVersion V3 = new(3, 0, 0);

    private static (SvmNode Node, StreamingTestSource Source) Node()
    {
        var source = new StreamingTestSource();
        source.Add("r2.pkg", R2);
        source.Add("r3.pkg", R3);
        var node = new SvmNode(o => With(o, source));
        node.InstallAndBoot();
        return (node, source);
    }

    internal static IReadOnlyList<string> AlternateFiles(SoftwareVersionManager svm) => svm.Storage.ListAlternateAsync().GetAwaiter().GetResult();

    /// <summary>Every file of the current context with its content, to prove it unchanged.</summary>
    internal static Dictionary<string, string> CurrentContext(SoftwareVersionManager svm)
        => svm.Storage.ListCurrentAsync().GetAwaiter().GetResult()
            .ToDictionary(p => p, p => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(svm.Storage.ReadCurrentAsync(p).GetAwaiter().GetResult())));

    [Fact]
    public void Full_streamed_upgrade_is_complete_verified_and_trial_boots()
    {
        var (node, source) = Node();
        using var _ = node;
        var progress = new List<UpgradeProgress>();
        var result = node.Svm.Upgrade(Command("r2.pkg", UpgradeMode.Full, ActivationMode.TrialBoot), new Progress(progress));

        Assert.Equal(V2, result.Release);
        Assert.Equal(4, result.Downloaded.Count);
        Assert.Equal(R2.Length, source.BytesSent);
        Assert.Equal([0L], source.StartOffsets);
        Assert.Contains(progress, p => p.Phase == "store-primary" && p.Components == 4);
        var t = node.Svm.ReadTable();
        Assert.Equal(ContextState.Valid, t.AlternateState);
        Assert.Equal(V2, t.AlternateRelease());
        Assert.DoesNotContain(AlternateFiles(node.Svm), f => f.StartsWith("install/", StringComparison.Ordinal));
        SvmNode.AssertStorageSane(node.Svm);

        node.Svm.Dispose();
        var report = node.Reboot().Initialize();
        Assert.Equal(V2, report.Release);
        Assert.Equal("node-a", node.Svm.ReadConfiguration("node")!.Settings["hostname"]);
    }

    [Fact]
    public void Partial_streamed_upgrade_of_a_delta_package_copies_the_unchanged_components()
    {
        var source = new StreamingTestSource();
        // R3 against R2: boot and xc change, traffic-fpga.bit stays; the delta leaves it out.
        source.Add("r2.pkg", R2);
        source.Add("r3-delta.pkg", Release(3, omit: new HashSet<string> { "traffic-fpga.bit" }));
        using var node = new SvmNode(o => With(o, source));
        node.InstallAndBoot();
        node.Svm.Upgrade(Command("r2.pkg", UpgradeMode.Full, ActivationMode.Exchange));

        var result = node.Svm.Upgrade(Command("r3-delta.pkg", UpgradeMode.Auto));

        Assert.Equal(UpgradeMode.Partial, result.Mode);
        Assert.Contains("traffic-fpga.bit", result.Copied);
        Assert.DoesNotContain("traffic-fpga.bit", result.Downloaded);
        Assert.Equal(V3, node.Svm.ReadTable().AlternateRelease());
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(30_000)]
    [InlineData(120_000)]
    [InlineData(168_000)]
    public void Network_failure_resumes_from_the_last_stored_component(long failAfter)
    {
        var (node, source) = Node();
        using var _ = node;
        source.FailAfterBytes = failAfter;

        Assert.Throws<UpgradeFailedException>(() => node.Svm.Upgrade(Command("r2.pkg")));
        Assert.NotEqual(ContextState.Valid, node.Svm.ReadTable().AlternateState);

        var result = node.Svm.Upgrade(Command("r2.pkg"));

        Assert.Equal(V2, result.Release);
        Assert.Equal(2, source.StartOffsets.Count);
        var resumedAt = source.StartOffsets[1];
        Assert.True(resumedAt <= failAfter, $"resumed at {resumedAt}, beyond the {failAfter} bytes received");
        Assert.True(failAfter < 1000 || resumedAt > 0, $"a failure after {failAfter} bytes restarted from zero");
        Assert.Equal(R2.Length + failAfter - resumedAt, source.BytesSent);
        SvmNode.AssertStorageSane(node.Svm);
        Assert.DoesNotContain(AlternateFiles(node.Svm), f => f.StartsWith("install/", StringComparison.Ordinal));
    }

    [Fact]
    public void Init_keeps_a_partial_install_but_never_boots_it_and_the_same_command_continues()
    {
        var (node, source) = Node();
        using var _ = node;
        source.FailAfterBytes = 150_000;
        Assert.Throws<UpgradeFailedException>(() => node.Svm.Upgrade(Command("r2.pkg")));
        node.Svm.Dispose();

        var report = node.Reboot().Initialize();
        Assert.Equal(V1, report.Release);
        Assert.NotEqual(ContextState.Valid, node.Svm.ReadTable().AlternateState);
        Assert.Contains("install/state", AlternateFiles(node.Svm));

        var result = node.Svm.Upgrade(Command("r2.pkg"));
        Assert.Equal(V2, result.Release);
        Assert.True(source.StartOffsets[^1] > 100_000, $"resumed at {source.StartOffsets[^1]}");
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void A_different_package_at_the_same_path_or_another_command_starts_over()
    {
        var (node, source) = Node();
        using var _ = node;
        source.FailAfterBytes = 150_000;
        Assert.Throws<UpgradeFailedException>(() => node.Svm.Upgrade(Command("r2.pkg")));

        // Another path: a different command, which does not continue the stored part.
        var r3 = node.Svm.Upgrade(Command("r3.pkg"));
        Assert.Equal(V3, r3.Release);
        Assert.Equal(0, source.StartOffsets[^1]);

        // The same path, but the file changed on the server (another validator): from zero.
        source.FailAfterBytes = 150_000;
        source.Add("r2.pkg", R2);
        Assert.Throws<UpgradeFailedException>(() => node.Svm.Upgrade(Command("r2.pkg")));
        source.Add("r2.pkg", Release(2, scale: 2));
        var r2 = node.Svm.Upgrade(Command("r2.pkg"));
        Assert.Equal(V2, r2.Release);
        Assert.Equal(0, source.StartOffsets[^1]);
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void Power_cut_mid_stream_boots_the_old_release_and_the_same_command_resumes()
    {
        var (node, source) = Node();
        using var _ = node;
        node.Dev0.CutPowerAfter(40);
        Assert.ThrowsAny<IOException>(() => node.Svm.Upgrade(Command("r2.pkg")));
        node.Svm.Dispose();

        var report = node.Reboot().Initialize();
        Assert.Equal(V1, report.Release);
        SvmNode.AssertStorageSane(node.Svm);

        var result = node.Svm.Upgrade(Command("r2.pkg"));
        Assert.Equal(V2, result.Release);
        Assert.True(source.StartOffsets[^1] > 0, "the install started over after the power cut");
        SvmNode.AssertStorageSane(node.Svm);
    }

    private sealed class Progress(List<UpgradeProgress> seen) : IProgress<UpgradeProgress>
    {
        public void Report(UpgradeProgress value) => seen.Add(value);
    }
}

using Flash.Ffs.Contexts;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using static Flash.Tests.Svm.Streaming.StreamingReleases;

namespace Flash.Tests.Svm.Streaming;

/// <summary>
/// The asynchronous upgrade command (issue 18's sync/async rule, issue 21's streaming install): an asynchronous source
/// is awaited, never waited for on a thread; the synchronous command and recovery refuse it before any transfer.
/// </summary>
public class StreamingUpgradeAsyncTests
{
    private static readonly SoftwareVersion V2 = new(2, 0, 0);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static UpgradeCommand Net(string path) => new(new TransferParameters("net", path), UpgradeMode.Full, ActivationMode.None);

    private static SvmNode Node(AsyncStreamingTestSource source)
    {
        source.Add("r2.pkg", R2);
        var node = new SvmNode(o => With(o, source));
        node.InstallAndBoot();
        return node;
    }

    [Fact]
    public async Task UpgradeAsync_returns_while_the_source_waits_and_installs_as_the_bytes_arrive()
    {
        var source = new AsyncStreamingTestSource();
        using var node = Node(source);

        var upgrade = node.Svm.UpgradeAsync(Net("r2.pkg"), null, Ct);
        Assert.False(upgrade.IsCompleted); // the source has not answered: no thread of the caller waits for it
        source.Open.SetResult();
        var result = await upgrade;

        Assert.Equal(V2, result.Release);
        Assert.Equal(ContextState.Valid, node.Svm.ReadTable().AlternateState);
        Assert.Equal(V2, node.Svm.ReadTable().AlternateRelease());
        Assert.DoesNotContain(StreamingUpgradeTests.AlternateFiles(node.Svm), f => f.StartsWith("install/", StringComparison.Ordinal));
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public async Task UpgradeAsync_after_a_broken_transfer_resumes_from_the_stored_offset()
    {
        var source = new AsyncStreamingTestSource { FailAfterBytes = R2.Length / 2 };
        using var node = Node(source);
        source.Open.SetResult();

        await Assert.ThrowsAsync<UpgradeFailedException>(() => node.Svm.UpgradeAsync(Net("r2.pkg"), null, Ct));
        var result = await node.Svm.UpgradeAsync(Net("r2.pkg"), null, Ct);

        Assert.Equal(V2, result.Release);
        Assert.Equal(2, source.StartOffsets.Count);
        Assert.True(source.StartOffsets[1] > 0, $"resumed at {source.StartOffsets[1]}");
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void The_synchronous_command_refuses_an_asynchronous_source_before_any_transfer()
    {
        var source = new AsyncStreamingTestSource();
        using var node = Node(source);
        source.Open.SetResult();
        var before = node.Svm.ReadTable();

        var e = Assert.Throws<SvmException>(() => node.Svm.Upgrade(Net("r2.pkg"), null, Ct));

        Assert.Contains("UpgradeAsync", e.Message, StringComparison.Ordinal);
        Assert.Empty(source.StartOffsets);
        Assert.Equal(before.AlternateState, node.Svm.ReadTable().AlternateState);
    }

    [Fact]
    public async Task UpgradeAsync_over_a_synchronous_source_runs_the_same_command()
    {
        var sync = new StreamingTestSource();
        sync.Add("r2.pkg", R2);
        using var node = new SvmNode(o => With(o, sync));
        node.InstallAndBoot();

        var result = await node.Svm.UpgradeAsync(Command("r2.pkg"), null, Ct);

        Assert.Equal(V2, result.Release);
        Assert.Equal([0L], sync.StartOffsets);
    }
}

using Flash.Ffs.Contexts;
using Flash.Svm.Management.Upgrades;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Tests.Upgrades;

/// <summary>
/// The download job over an asynchronous (network-like) source: it runs the SVM's <c>UpgradeAsync</c>, which awaits
/// the transfer (the job is Downloading while the source holds its answer), streams the package into the alternate
/// and ends Validated; Dispose joins a job still waiting, after cancelling it.
/// </summary>
public sealed class UpgradeStateMachineAsyncSourceTests
{
    [Fact]
    public async Task A_download_from_an_asynchronous_source_awaits_it_and_ends_validated()
    {
        var source = new HeldSource(ManagedNode.Release(2, ManagedNode.Key));
        using var node = new ManagedNode(extraSource: source);

        var running = node.Machine.StartDownload(new TransferParameters("held", "r2.pkg"));
        Assert.True(await source.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        Assert.Equal(UpgradeState.Downloading, node.Machine.Status.State);
        source.Open.SetResult();
        await running.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        var s = node.Machine.Status;
        Assert.Equal((UpgradeState.Validated, new SoftwareVersion(2, 0, 0)), (s.State, s.Target));
        Assert.Equal(ContextState.Valid, node.Svm.ReadTable().AlternateState);
    }

    [Fact]
    public async Task Dispose_cancels_a_download_that_waits_for_its_source_and_joins_it()
    {
        var source = new HeldSource(ManagedNode.Release(2, ManagedNode.Key));
        using var node = new ManagedNode(extraSource: source);
        var running = node.Machine.StartDownload(new TransferParameters("held", "r2.pkg"));
        Assert.True(await source.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        node.Machine.Dispose();

        Assert.True(running.IsCompleted);
        Assert.Equal((UpgradeState.Idle, UpgradeOutcome.Cancelled), (node.Machine.Status.State, node.Machine.Status.Outcome));
        node.Machine.Dispose(); // a second dispose does nothing
    }

    /// <summary>An asynchronous streaming source that answers only once <see cref="Open"/> completes.</summary>
    private sealed class HeldSource(byte[] package) : IAsyncStreamingSoftwareSource
    {
        public string Kind => "held";

        public TaskCompletionSource<bool> Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken) => throw new NotSupportedException("asynchronous source");

        public async Task<byte[]> FetchAsync(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
        {
            await Open.Task.WaitAsync(cancellationToken);
            return package;
        }

        public async Task StreamAsync(TransferParameters parameters, long maxBytes, IPackageSink sink, CancellationToken cancellationToken)
        {
            Asked.TrySetResult(true);
            await Open.Task.WaitAsync(cancellationToken);
            sink.Begin(package.Length, "\"v\"", fromZero: true);
            for (int at = 0; at < package.Length; at += 32 * 1024)
            {
                await Task.Yield();
                sink.Append(package.AsSpan(at, Math.Min(32 * 1024, package.Length - at)));
            }
        }
    }
}

using Flash.Svm.Packages;

namespace Flash.Svm.Management.Tests;

/// <summary>A software source whose transfer waits until released or cancelled: a download that is still running.</summary>
internal sealed class BlockingSource(byte[] package) : ISoftwareSource
{
    private readonly ManualResetEventSlim _release = new();

    public ManualResetEventSlim Started { get; } = new();

    public string Kind => "slow";

    public void Release() => _release.Set();

    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
    {
        Started.Set();
        _release.Wait(cancellationToken);
        return package;
    }
}

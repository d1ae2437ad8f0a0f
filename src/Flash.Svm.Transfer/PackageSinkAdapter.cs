using System.Runtime.ExceptionServices;
using Flash.Svm.Packages;

namespace Flash.Svm.Transfer;

/// <summary>
/// Lets the clients fill the SVM's streaming install (<see cref="IPackageSink"/>) as they fill any
/// <see cref="IDownloadSink"/>. What the install throws (bad package, a storage failure) is carried through the clients
/// as a non-transient <see cref="SinkFailedException"/>, so that it is neither mistaken for a broken connection nor
/// retried, and rethrown unchanged by <see cref="Rethrow"/>.
/// </summary>
/// <param name="inner">The install.</param>
internal sealed class PackageSinkAdapter(IPackageSink inner) : IDownloadSink
{
    /// <inheritdoc />
    public long Length => inner.Length;

    /// <inheritdoc />
    public string? Validator => inner.Validator;

    /// <inheritdoc />
    public void Begin(long totalLength, string? validator, bool fromZero)
    {
        try
        {
            inner.Begin(totalLength, validator, fromZero);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new SinkFailedException(e);
        }
    }

    /// <inheritdoc />
    public void Append(ReadOnlySpan<byte> data)
    {
        try
        {
            inner.Append(data);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new SinkFailedException(e);
        }
    }

    /// <summary>Rethrows what the install threw, when <paramref name="failure"/> carries it.</summary>
    /// <param name="failure">What the download threw.</param>
    public static void Rethrow(Exception failure)
    {
        for (var e = failure; e is not null; e = e.InnerException)
        {
            if (e is SinkFailedException carried)
            {
                ExceptionDispatchInfo.Capture(carried.InnerException!).Throw();
            }
        }
    }
}

/// <summary>The sink refused bytes; carries its exception through the clients (never transient).</summary>
/// <param name="inner">What the sink threw.</param>
internal sealed class SinkFailedException(Exception inner) : TransferException("The package sink failed: " + inner.Message, inner);

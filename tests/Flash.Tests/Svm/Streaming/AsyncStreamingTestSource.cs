using Flash.Svm;
using Flash.Svm.Packages;

namespace Flash.Tests.Svm.Streaming;

/// <summary>
/// An asynchronous streaming source in memory, as the network sources are: nothing is sent before <see cref="Open"/>
/// is released, every chunk is handed to the sink after a real yield (the transfer continues on a pool thread, not on
/// the caller's), it resumes from the sink's length when the validator still matches, and it can break after a number
/// of bytes. Its synchronous <see cref="ISoftwareSource.Fetch"/> refuses, as <c>NetworkSoftwareSource</c>'s does.
/// </summary>
internal sealed class AsyncStreamingTestSource : IAsyncStreamingSoftwareSource
{
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    public string Kind => "net";

    /// <summary>Completed when the server may answer; the transfer awaits it.</summary>
    public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The next attempt breaks (IOException) after this many bytes; -1 = no failure. Reset after use.</summary>
    public long FailAfterBytes { get; set; } = -1;

    /// <summary>Where each attempt started.</summary>
    public List<long> StartOffsets { get; } = [];

    public void Add(string path, byte[] package) => _files[path] = package;

    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
        => throw new NotSupportedException("asynchronous source");

    public async Task<byte[]> FetchAsync(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
    {
        await Open.Task.WaitAsync(cancellationToken);
        return _files[parameters.Path];
    }

    public async Task StreamAsync(TransferParameters parameters, long maxBytes, IPackageSink sink, CancellationToken cancellationToken)
    {
        var data = _files[parameters.Path];
        await Open.Task.WaitAsync(cancellationToken);
        long offset = StreamingTestSource.BeginAttempt(sink, data, StartOffsets);
        var limit = FailAfterBytes;
        FailAfterBytes = -1;
        for (long sent = 0; offset < data.Length;)
        {
            await Task.Yield();
            var n = (int)Math.Min(16 * 1024, data.Length - offset);
            if (limit >= 0 && sent + n > limit)
            {
                throw new IOException($"connection reset by the test after {sent} bytes");
            }

            sink.Append(data.AsSpan((int)offset, n));
            (offset, sent) = (offset + n, sent + n);
        }
    }
}

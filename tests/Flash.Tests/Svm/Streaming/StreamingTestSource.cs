using System.Security.Cryptography;
using Flash.Svm;
using Flash.Svm.Packages;

namespace Flash.Tests.Svm.Streaming;

/// <summary>
/// A streaming package source in memory that behaves like the network clients: resumes from the sink's length when
/// the package still has the sink's validator, from zero otherwise, and can break the transfer after a number of bytes.
/// </summary>
internal sealed class StreamingTestSource : IStreamingSoftwareSource
{
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    public string Kind => "stream";

    /// <summary>Bytes per <see cref="IPackageSink.Append"/> call.</summary>
    public int ChunkSize { get; init; } = 16 * 1024;

    /// <summary>The next attempt breaks (IOException) after this many bytes; -1 = no failure. Reset after use.</summary>
    public long FailAfterBytes { get; set; } = -1;

    /// <summary>Bytes handed to sinks over all attempts.</summary>
    public long BytesSent { get; private set; }

    /// <summary>Where each attempt started.</summary>
    public List<long> StartOffsets { get; } = [];

    public void Add(string path, byte[] package) => _files[path] = package;

    public static string ValidatorOf(byte[] package) => "\"" + Convert.ToHexString(SHA256.HashData(package))[..16] + "\"";

    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken) => Get(parameters, maxBytes);

    public void Stream(TransferParameters parameters, long maxBytes, IPackageSink sink, CancellationToken cancellationToken)
    {
        var data = Get(parameters, maxBytes);
        long offset = BeginAttempt(sink, data, StartOffsets);
        var limit = FailAfterBytes;
        FailAfterBytes = -1;
        long sent = 0;
        while (offset < data.Length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = (int)Math.Min(ChunkSize, data.Length - offset);
            if (limit >= 0 && sent + n > limit)
            {
                n = (int)(limit - sent);
                sink.Append(data.AsSpan((int)offset, n));
                BytesSent += n;
                throw new IOException($"connection reset by the test after {sent + n} bytes");
            }

            sink.Append(data.AsSpan((int)offset, n));
            offset += n;
            sent += n;
            BytesSent += n;
        }
    }

    /// <summary>Starts an attempt as the network clients do (resume when the sink holds part of this file); returns the offset it sends from.</summary>
    internal static long BeginAttempt(IPackageSink sink, byte[] data, List<long> startOffsets)
    {
        var validator = ValidatorOf(data);
        var resume = sink.Length > 0 && sink.Validator == validator && sink.Length <= data.Length;
        long offset = resume ? sink.Length : 0;
        startOffsets.Add(offset);
        sink.Begin(data.Length, validator, fromZero: !resume);
        return offset;
    }

    private byte[] Get(TransferParameters parameters, long maxBytes)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!_files.TryGetValue(parameters.Path, out var data))
        {
            throw new FileNotFoundException("Package not found.", parameters.Path);
        }

        return data.Length > maxBytes
            ? throw new PackageRejectedException(PackageRejectReason.Oversized, $"{data.Length} bytes exceeds the limit of {maxBytes}.")
            : data;
    }
}

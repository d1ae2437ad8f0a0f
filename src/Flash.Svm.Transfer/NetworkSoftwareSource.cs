using Flash.Svm.Packages;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Transfer;

/// <summary>
/// An SVM package source for one URL scheme (<c>http</c>, <c>https</c>, <c>ftp</c>, <c>sftp</c>): <see cref="TransferParameters.Path"/>
/// is the URL and <see cref="TransferParameters.User"/>/<see cref="TransferParameters.Password"/> the credentials.
/// The transfer is asynchronous network I/O end to end (<see cref="ResumingDownload"/> and the clients):
/// <see cref="StreamAsync"/> and <see cref="FetchAsync"/> are its real path. The upgrade command streams the package
/// into the SVM's install (verified and stored in the alternate context as it arrives, resumable after a power cut);
/// recovery at init fetches it whole. Resumes after interruptions happen within each call.
/// </summary>
/// <remarks>
/// The SVM's commands are synchronous (device work on the caller's thread), so it calls <see cref="Stream"/> and
/// <see cref="Fetch"/>: they wait on the command thread for the asynchronous transfer. That wait is the one bridge
/// from synchronous to asynchronous code in the node, kept here at the edge where network I/O meets the SVM
/// (docs/architecture.md, "Sync and async"): the network clients are not written twice, and nothing below this
/// bridge blocks on a task.
/// </remarks>
/// <param name="kind">The scheme this source serves (the <see cref="TransferParameters.Source"/> value).</param>
/// <param name="download">The resuming downloader.</param>
public sealed class NetworkSoftwareSource(string kind, ResumingDownload download) : IAsyncStreamingSoftwareSource
{
    /// <inheritdoc />
    public string Kind => kind;

    /// <summary>Sources for every supported scheme over the given clients.</summary>
    /// <param name="options">Trust, timeouts, retries.</param>
    /// <param name="logger">Logger.</param>
    /// <returns>The sources and the HTTP client to dispose with them.</returns>
    public static (IReadOnlyList<ISoftwareSource> Sources, IDisposable Owner) CreateAll(TransferOptions? options = null, ILogger? logger = null)
    {
        var http = new HttpPackageDownloader(options, logger);
        var download = new ResumingDownload([http, new FtpPackageDownloader(options, logger), new SftpPackageDownloader(options, logger)], options, logger);
        return (TransferUrl.SupportedSchemes.Select(s => (ISoftwareSource)new NetworkSoftwareSource(s, download)).ToArray(), http);
    }

    /// <inheritdoc />
    public async Task<byte[]> FetchAsync(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
    {
        var sink = new MemoryDownloadSink();
        await RunAsync(parameters, maxBytes, sink, cancellationToken).ConfigureAwait(false);
        return sink.ToArray();
    }

    /// <inheritdoc />
    public async Task StreamAsync(TransferParameters parameters, long maxBytes, IPackageSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        try
        {
            await RunAsync(parameters, maxBytes, new PackageSinkAdapter(sink), cancellationToken).ConfigureAwait(false);
        }
        catch (TransferException e)
        {
            PackageSinkAdapter.Rethrow(e);
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>Waits on the calling (SVM command) thread for <see cref="FetchAsync"/>.</remarks>
    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
        => WaitOnCommandThread(FetchAsync(parameters, maxBytes, cancellationToken));

    /// <inheritdoc />
    /// <remarks>Waits on the calling (SVM command) thread for <see cref="StreamAsync"/>.</remarks>
    public void Stream(TransferParameters parameters, long maxBytes, IPackageSink sink, CancellationToken cancellationToken)
        => WaitOnCommandThread(StreamAsync(parameters, maxBytes, sink, cancellationToken));

    /// <summary>
    /// The bridge from the SVM's synchronous command to the asynchronous transfer. Safe from deadlock because every
    /// await below it uses <c>ConfigureAwait(false)</c> and the SVM's command threads have no synchronisation context.
    /// </summary>
    private static T WaitOnCommandThread<T>(Task<T> transfer) => transfer.GetAwaiter().GetResult();

    private static void WaitOnCommandThread(Task transfer) => transfer.GetAwaiter().GetResult();

    private Task RunAsync(TransferParameters parameters, long maxBytes, IDownloadSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var url = TransferUrl.Parse(parameters.Path);
        if (url.Scheme != kind)
        {
            throw new TransferUrlException($"source '{kind}' was given a {url.Scheme} URL.");
        }

        var credentials = TransferCredentials.From(parameters.User ?? url.User, parameters.Password);
        return download.RunAsync(url, credentials, maxBytes, sink, cancellationToken);
    }
}

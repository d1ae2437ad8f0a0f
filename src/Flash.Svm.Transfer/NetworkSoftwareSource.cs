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
/// The source is consumed only asynchronously (<c>SoftwareVersionManager.UpgradeAsync</c>, the management download
/// job): there is no synchronous bridge that would block a thread on the transfer. <see cref="ISoftwareSource.Fetch"/>,
/// which a synchronous command (recovery at init, the synchronous <c>Upgrade</c>) would call, refuses with
/// <see cref="NotSupportedException"/> (docs/architecture.md, "Sync and async").
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

    /// <summary>Refused: a network transfer is asynchronous and is not run by a synchronous caller.</summary>
    /// <param name="parameters">Transfer parameters.</param>
    /// <param name="maxBytes">Size limit.</param>
    /// <param name="cancellationToken">Unused.</param>
    /// <returns>Never returns.</returns>
    /// <exception cref="NotSupportedException">Always.</exception>
    byte[] ISoftwareSource.Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
        => throw new NotSupportedException($"The '{kind}' source transfers asynchronously: use FetchAsync, or the SVM's UpgradeAsync; a synchronous command cannot use it.");

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

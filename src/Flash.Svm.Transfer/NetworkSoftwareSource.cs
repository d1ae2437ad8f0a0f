using Flash.Svm.Packages;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Transfer;

/// <summary>
/// An SVM package source for one URL scheme (<c>http</c>, <c>https</c>, <c>ftp</c>, <c>sftp</c>): <see cref="TransferParameters.Path"/>
/// is the URL and <see cref="TransferParameters.User"/>/<see cref="TransferParameters.Password"/> the credentials.
/// The upgrade command streams the package into the SVM's install (<see cref="Stream"/>: verified and stored in the
/// alternate context as it arrives, resumable after a power cut); <see cref="Fetch"/> still collects it in memory for
/// the callers that need it whole (recovery at init). Resumes after interruptions happen within each call.
/// </summary>
/// <param name="kind">The scheme this source serves (the <see cref="TransferParameters.Source"/> value).</param>
/// <param name="download">The resuming downloader.</param>
public sealed class NetworkSoftwareSource(string kind, ResumingDownload download) : IStreamingSoftwareSource
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
    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
    {
        var sink = new MemoryDownloadSink();
        Run(parameters, maxBytes, sink, cancellationToken);
        return sink.ToArray();
    }

    /// <inheritdoc />
    public void Stream(TransferParameters parameters, long maxBytes, IPackageSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sink);
        try
        {
            Run(parameters, maxBytes, new PackageSinkAdapter(sink), cancellationToken);
        }
        catch (TransferException e)
        {
            PackageSinkAdapter.Rethrow(e);
            throw;
        }
    }

    private void Run(TransferParameters parameters, long maxBytes, IDownloadSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var url = TransferUrl.Parse(parameters.Path);
        if (url.Scheme != kind)
        {
            throw new TransferUrlException($"source '{kind}' was given a {url.Scheme} URL.");
        }

        var credentials = TransferCredentials.From(parameters.User ?? url.User, parameters.Password);
        // The SVM's sources are synchronous; the SVM calls them from its own command thread.
        download.RunAsync(url, credentials, maxBytes, sink, cancellationToken).GetAwaiter().GetResult();
    }
}

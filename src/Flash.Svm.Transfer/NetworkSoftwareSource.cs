using Flash.Svm.Packages;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Transfer;

/// <summary>
/// An SVM package source for one URL scheme (<c>http</c>, <c>https</c>, <c>ftp</c>, <c>sftp</c>): <see cref="TransferParameters.Path"/>
/// is the URL and <see cref="TransferParameters.User"/>/<see cref="TransferParameters.Password"/> the credentials.
/// The package is collected in memory, as <see cref="ISoftwareSource"/> requires; resumes after interruptions happen
/// within the call.
/// </summary>
/// <param name="kind">The scheme this source serves (the <see cref="TransferParameters.Source"/> value).</param>
/// <param name="download">The resuming downloader.</param>
public sealed class NetworkSoftwareSource(string kind, ResumingDownload download) : ISoftwareSource
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
        ArgumentNullException.ThrowIfNull(parameters);
        var url = TransferUrl.Parse(parameters.Path);
        if (url.Scheme != kind)
        {
            throw new TransferUrlException($"source '{kind}' was given a {url.Scheme} URL.");
        }

        var credentials = TransferCredentials.From(parameters.User ?? url.User, parameters.Password);
        var sink = new MemoryDownloadSink();
        // ISoftwareSource is synchronous; the SVM calls it from its own command thread.
        download.RunAsync(url, credentials, maxBytes, sink, cancellationToken).GetAwaiter().GetResult();
        return sink.ToArray();
    }
}

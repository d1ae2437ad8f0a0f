namespace Flash.Svm.Transfer;

/// <summary>One attempt at fetching a file from a server, from the sink's current length.</summary>
public interface IPackageDownloader
{
    /// <summary>Whether this client serves the URL's scheme.</summary>
    /// <param name="scheme">Lower-case scheme.</param>
    /// <returns>True when it does.</returns>
    bool Serves(string scheme);

    /// <summary>
    /// Fetches the file into <paramref name="sink"/>, resuming at <see cref="IDownloadSink.Length"/> when the server's
    /// file still has the sink's <see cref="IDownloadSink.Validator"/>, from zero otherwise.
    /// </summary>
    /// <param name="url">The file.</param>
    /// <param name="credentials">Login, or null (anonymous).</param>
    /// <param name="maxBytes">Files larger than this are refused before any byte reaches the sink.</param>
    /// <param name="sink">Receives the bytes.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>A task that completes when the sink holds the whole file.</returns>
    /// <exception cref="TransferInterruptedException">The connection broke or stalled; try again.</exception>
    /// <exception cref="TransferException">Another failure (trust, authentication, not found, protocol).</exception>
    /// <exception cref="PackageRejectedException">The file exceeds <paramref name="maxBytes"/>.</exception>
    Task DownloadAsync(TransferUrl url, TransferCredentials? credentials, long maxBytes, IDownloadSink sink, CancellationToken cancellationToken);
}

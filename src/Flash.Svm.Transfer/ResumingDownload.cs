using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Transfer;

/// <summary>What to do after an attempt failed (pure policy, <see cref="ResumingDownload.Next"/>).</summary>
public enum RetryDecision
{
    /// <summary>Try again from the sink's length after the delay.</summary>
    Retry,
    /// <summary>Give up: the failure is not transient or the attempts are spent.</summary>
    GiveUp,
}

/// <summary>
/// Runs attempts of one <see cref="IPackageDownloader"/> until the sink holds the whole file: a broken connection,
/// a stalled or stopped server resumes from the bytes already held instead of from zero.
/// </summary>
/// <param name="downloaders">The clients, chosen by the URL's scheme.</param>
/// <param name="options">Attempts and delays.</param>
/// <param name="logger">Logger.</param>
public sealed partial class ResumingDownload(IReadOnlyList<IPackageDownloader> downloaders, TransferOptions? options = null, ILogger? logger = null)
{
    private readonly TransferOptions _options = options ?? new TransferOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>Decides whether a failed attempt is worth repeating.</summary>
    /// <param name="failure">What the attempt threw.</param>
    /// <param name="attempt">Attempts made so far (1 after the first).</param>
    /// <param name="maxAttempts">Attempts allowed.</param>
    /// <returns>The decision.</returns>
    public static RetryDecision Next(Exception failure, int attempt, int maxAttempts) =>
        failure is TransferException { IsTransient: true } && attempt < maxAttempts ? RetryDecision.Retry : RetryDecision.GiveUp;

    /// <summary>Fetches <paramref name="url"/> into <paramref name="sink"/>, resuming after transient failures.</summary>
    /// <param name="url">The file.</param>
    /// <param name="credentials">Login, or null.</param>
    /// <param name="maxBytes">Size limit.</param>
    /// <param name="sink">Receives the bytes; may already hold some from an earlier run.</param>
    /// <param name="cancellationToken">Cancels.</param>
    /// <returns>A task completing when the sink holds the whole file.</returns>
    /// <exception cref="TransferUrlException">No client serves the URL's scheme.</exception>
    /// <exception cref="TransferException">The last attempt's failure, when the policy gave up.</exception>
    public async Task RunAsync(TransferUrl url, TransferCredentials? credentials, long maxBytes, IDownloadSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(sink);
        var client = downloaders.FirstOrDefault(d => d.Serves(url.Scheme))
            ?? throw new TransferUrlException($"no client for scheme '{url.Scheme}'.");
        var delay = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await client.DownloadAsync(url, credentials, maxBytes, sink, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (TransferException e) when (Next(e, attempt, _options.MaxAttempts) == RetryDecision.Retry)
            {
                LogRetrying(url, attempt, sink.Length, e.Message);
            }
            catch (TransferException e)
            {
                LogFailed(url, attempt, e.Message);
                throw;
            }

            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            delay += delay;
        }
    }

    [LoggerMessage(EventId = 3203, EventName = nameof(TransferEvents.Interrupted), Level = LogLevel.Warning, Message = "{Url}: attempt {Attempt} failed with {Held} bytes held, resuming: {Reason}")]
    private partial void LogRetrying(TransferUrl url, int attempt, long held, string reason);

    [LoggerMessage(EventId = 3205, EventName = nameof(TransferEvents.Failed), Level = LogLevel.Error, Message = "{Url}: giving up after {Attempts} attempt(s): {Reason}")]
    private partial void LogFailed(TransferUrl url, int attempts, string reason);
}

using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using Flash.Svm;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Transfer;

/// <summary>
/// HTTP and HTTPS through <see cref="HttpClient"/>. A resumed attempt sends <c>Range: bytes=N-</c> with
/// <c>If-Range</c> set to the validator the held bytes came with, so a file replaced on the server comes back whole
/// (200) instead of being spliced onto stale bytes (206 only when it is unchanged).
/// </summary>
public sealed class HttpPackageDownloader : IPackageDownloader, IDisposable
{
    private readonly HttpClient _client;
    private readonly TransferOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the client.</summary>
    /// <param name="options">Trust, timeouts, buffer size.</param>
    /// <param name="logger">Logger (events <see cref="TransferEvents"/>).</param>
    public HttpPackageDownloader(TransferOptions? options = null, ILogger? logger = null)
    {
        _options = options ?? new TransferOptions();
        _logger = logger ?? NullLogger.Instance;
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = _options.ConnectTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            AllowAutoRedirect = false,
            UseProxy = false,
        };
        var trust = new TlsTrust(_options.TrustedRoots);
        if (trust.UsesPrivateRoots)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = trust.Validate };
        }

        _client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <inheritdoc />
    public bool Serves(string scheme) => scheme is "http" or "https";

    /// <inheritdoc />
    public async Task DownloadAsync(TransferUrl url, TransferCredentials? credentials, long maxBytes, IDownloadSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(sink);
        var offset = sink.Validator is null ? 0 : sink.Length;
        for (var pass = 0; ; pass++)
        {
            using var request = BuildRequest(url, credentials, offset, sink.Validator);
            TransferLog.AttemptStarted(_logger, url, offset);
            using var response = await SendAsync(request, url, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && pass == 0)
            {
                var whole = response.Content.Headers.ContentRange?.Length;
                if (whole == offset)
                {
                    sink.Begin(offset, sink.Validator, fromZero: false);
                    return;
                }

                offset = 0; // the held bytes do not fit the file any more: take it whole
                continue;
            }

            var (total, fromZero) = Classify(response, url, offset);
            if (total > maxBytes)
            {
                throw new PackageRejectedException(PackageRejectReason.Oversized, $"{url} is {total} bytes, over the limit of {maxBytes}.");
            }

            var validator = ValidatorOf(response);
            if (fromZero && sink.Length > 0)
            {
                TransferLog.RestartedFromZero(_logger, url, sink.Length);
            }
            else if (offset > 0)
            {
                TransferLog.Resumed(_logger, url, offset, "Range");
            }

            sink.Begin(total, validator, fromZero);
            await CopyBodyAsync(response, url, total, sink, cancellationToken).ConfigureAwait(false);
            TransferLog.Completed(_logger, url, total);
            return;
        }
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    private static HttpRequestMessage BuildRequest(TransferUrl url, TransferCredentials? credentials, long offset, string? validator)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url.ToRequestUri());
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("identity"));
        if (credentials is not null)
        {
            var token = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credentials.User}:{credentials.Password}"));
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", token);
        }

        if (offset > 0 && validator is not null)
        {
            request.Headers.Range = new RangeHeaderValue(offset, null);
            request.Headers.IfRange = validator.StartsWith('"')
                ? new RangeConditionHeaderValue(new EntityTagHeaderValue(validator))
                : new RangeConditionHeaderValue(DateTimeOffset.Parse(validator, CultureInfo.InvariantCulture));
        }

        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, TransferUrl url, CancellationToken cancellationToken)
    {
        using var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        headers.CancelAfter(_options.ConnectTimeout + _options.IdleTimeout);
        try
        {
            return await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, headers.Token).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is AuthenticationException)
        {
            throw new TransferTrustException($"{url}: the server's TLS certificate is not trusted.", e);
        }
        catch (HttpRequestException e)
        {
            throw new TransferInterruptedException($"{url}: {e.HttpRequestError}.", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransferInterruptedException($"{url}: no response within {(_options.ConnectTimeout + _options.IdleTimeout).TotalSeconds:0} s.", e);
        }
    }

    private static (long Total, bool FromZero) Classify(HttpResponseMessage response, TransferUrl url, long offset)
    {
        switch (response.StatusCode)
        {
            case HttpStatusCode.OK:
                return (response.Content.Headers.ContentLength
                    ?? throw new TransferProtocolException($"{url}: the server did not announce the file's length."), true);
            case HttpStatusCode.PartialContent:
                var range = response.Content.Headers.ContentRange;
                if (range?.From != offset || range.Length is not { } whole)
                {
                    throw new TransferProtocolException($"{url}: the server resumed at {range?.From} instead of {offset}.");
                }

                return (whole, false);
            case HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden:
                throw new TransferAuthenticationException($"{url}: the server refused the credentials ({(int)response.StatusCode}).");
            case HttpStatusCode.NotFound or HttpStatusCode.Gone:
                throw new TransferNotFoundException($"{url}: no such file on the server ({(int)response.StatusCode}).");
            case >= HttpStatusCode.InternalServerError:
                throw new TransferInterruptedException($"{url}: server error {(int)response.StatusCode}.");
            default:
                throw new TransferProtocolException($"{url}: unexpected status {(int)response.StatusCode}.");
        }
    }

    private static string? ValidatorOf(HttpResponseMessage response)
    {
        if (response.Headers.ETag is { IsWeak: false } tag)
        {
            return tag.Tag;
        }

        return response.Content.Headers.LastModified?.ToString("R", CultureInfo.InvariantCulture);
    }

    private async Task CopyBodyAsync(HttpResponseMessage response, TransferUrl url, long total, IDownloadSink sink, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_options.BufferSize);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                while (sink.Length < total)
                {
                    idle.CancelAfter(_options.IdleTimeout);
                    var read = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, total - sink.Length)), idle.Token).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    sink.Append(buffer.AsSpan(0, read));
                }
            }
        }
        catch (Exception e) when (e is IOException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            if (e is TransferException)
            {
                throw;
            }

            TransferLog.Interrupted(_logger, url, sink.Length, total);
            throw new TransferInterruptedException($"{url}: the connection broke after {sink.Length} of {total} bytes.", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (sink.Length < total)
        {
            TransferLog.Interrupted(_logger, url, sink.Length, total);
            throw new TransferInterruptedException($"{url}: the server closed after {sink.Length} of {total} bytes.");
        }
    }
}

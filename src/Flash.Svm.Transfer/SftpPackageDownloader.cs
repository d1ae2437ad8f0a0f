using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Flash.Svm;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace Flash.Svm.Transfer;

/// <summary>
/// SFTP through SSH.NET. The server's host key must match the pin in <see cref="TransferOptions.PinnedHostKeys"/>
/// for <c>host:port</c> (no trust on first use). A resumed attempt seeks to the held length when the file's size
/// and modification time still match the held bytes' validator.
/// </summary>
/// <param name="options">Pins, client key, timeouts, buffer size.</param>
/// <param name="logger">Logger.</param>
public sealed class SftpPackageDownloader(TransferOptions? options = null, ILogger? logger = null) : IPackageDownloader
{
    private readonly TransferOptions _options = options ?? new TransferOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <inheritdoc />
    public bool Serves(string scheme) => scheme == "sftp";

    /// <summary>Whether a host key's SHA-256 fingerprint matches a pin (pure; accepts pins with or without the <c>SHA256:</c> prefix and padding).</summary>
    /// <param name="pin">The pinned fingerprint.</param>
    /// <param name="fingerprintSha256">SSH.NET's fingerprint of the offered key (unpadded base64).</param>
    /// <returns>True when they name the same key.</returns>
    public static bool Matches(string pin, string fingerprintSha256)
    {
        ArgumentNullException.ThrowIfNull(pin);
        ArgumentNullException.ThrowIfNull(fingerprintSha256);
        static string Normal(string f) => (f.StartsWith("SHA256:", StringComparison.Ordinal) ? f[7..] : f).TrimEnd('=');
        return string.Equals(Normal(pin), Normal(fingerprintSha256), StringComparison.Ordinal);
    }

    /// <inheritdoc />
    public async Task DownloadAsync(TransferUrl url, TransferCredentials? credentials, long maxBytes, IDownloadSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(sink);
        var endpoint = string.Create(CultureInfo.InvariantCulture, $"{url.Host}:{url.Port}");
        if (!_options.PinnedHostKeys.TryGetValue(endpoint, out var pin))
        {
            throw new TransferTrustException($"{url}: no host key is pinned for {endpoint}.");
        }

        var user = credentials?.User ?? url.User ?? throw new TransferAuthenticationException($"{url}: SFTP needs a user.");
        TransferLog.AttemptStarted(_logger, url, sink.Length);
        using var client = new SftpClient(Connection(url, user, credentials));
        client.OperationTimeout = _options.IdleTimeout;
        var offered = "";
        client.HostKeyReceived += (_, e) =>
        {
            offered = e.FingerPrintSHA256;
            e.CanTrust = Matches(pin, e.FingerPrintSHA256);
        };

        try
        {
            await client.ConnectAsync(cancellationToken).ConfigureAwait(false);
            await CopyAsync(client, url, maxBytes, sink, cancellationToken).ConfigureAwait(false);
        }
        catch (SshConnectionException e) when (offered.Length > 0 && !Matches(pin, offered))
        {
            throw new TransferTrustException($"{url}: the server's host key SHA256:{offered} is not the pinned one.", e);
        }
        catch (SshAuthenticationException e)
        {
            throw new TransferAuthenticationException($"{url}: the server refused the login ({e.GetType().Name}).");
        }
        catch (SftpPathNotFoundException)
        {
            throw new TransferNotFoundException($"{url}: no such file on the server.");
        }
        catch (Exception e) when (e is not (TransferException or SvmException)
            && (e is SshException or SocketException or IOException or ObjectDisposedException
                || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)))
        {
            TransferLog.Interrupted(_logger, url, sink.Length, -1);
            throw new TransferInterruptedException($"{url}: the SSH session broke after {sink.Length} bytes ({e.GetType().Name}).", e);
        }
    }

    private ConnectionInfo Connection(TransferUrl url, string user, TransferCredentials? credentials)
    {
        var methods = new List<AuthenticationMethod>();
        if (_options.SshPrivateKey is { } key)
        {
            methods.Add(new PrivateKeyAuthenticationMethod(user, new PrivateKeyFile(new MemoryStream(Encoding.UTF8.GetBytes(key)))));
        }

        if (credentials is { Password.Length: > 0 })
        {
            methods.Add(new PasswordAuthenticationMethod(user, credentials.Password));
        }

        if (methods.Count == 0)
        {
            methods.Add(new NoneAuthenticationMethod(user));
        }

        return new ConnectionInfo(url.Host, url.Port, user, [.. methods]) { Timeout = _options.ConnectTimeout };
    }

    private async Task CopyAsync(SftpClient client, TransferUrl url, long maxBytes, IDownloadSink sink, CancellationToken cancellationToken)
    {
        var attributes = client.GetAttributes(url.Path);
        var total = attributes.Size;
        if (total > maxBytes)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"{url} is {total} bytes, over the limit of {maxBytes}.");
        }

        var validator = string.Create(CultureInfo.InvariantCulture, $"{attributes.LastWriteTimeUtc.Ticks}/{total}");
        var resume = validator == sink.Validator && sink.Length > 0 && sink.Length <= total;
        if (!resume && sink.Length > 0)
        {
            TransferLog.RestartedFromZero(_logger, url, sink.Length);
        }
        else if (resume)
        {
            TransferLog.Resumed(_logger, url, sink.Length, "seek");
        }

        var remote = await client.OpenAsync(url.Path, FileMode.Open, FileAccess.Read, cancellationToken).ConfigureAwait(false);
        await using (remote.ConfigureAwait(false))
        {
            sink.Begin(total, validator, fromZero: !resume);
            remote.Seek(sink.Length, SeekOrigin.Begin);
            var buffer = ArrayPool<byte>.Shared.Rent(_options.BufferSize);
            try
            {
                while (sink.Length < total)
                {
                    var read = await remote.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, total - sink.Length)), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        TransferLog.Interrupted(_logger, url, sink.Length, total);
                        throw new TransferInterruptedException($"{url}: the file ended after {sink.Length} of {total} bytes.");
                    }

                    sink.Append(buffer.AsSpan(0, read));
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        TransferLog.Completed(_logger, url, total);
    }
}

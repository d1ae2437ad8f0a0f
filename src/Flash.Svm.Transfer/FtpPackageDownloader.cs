using System.Buffers;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Flash.Svm;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Transfer;

/// <summary>
/// FTP (RFC 959) in binary mode over a passive data connection (<c>EPSV</c>, RFC 2428, falling back to <c>PASV</c>).
/// The file's size comes from <c>SIZE</c> and its identity from <c>MDTM</c> (RFC 3659); a resumed attempt sends
/// <c>REST</c> with the held length only when <c>MDTM</c> and <c>SIZE</c> still match the held bytes' validator.
/// The data connection always goes to the control connection's peer: a <c>PASV</c> reply naming another address
/// is ignored (FTP bounce protection). The <c>ftps</c> scheme is explicit FTPS (RFC 4217): <c>AUTH TLS</c> before
/// the login, <c>PROT P</c> data connections, certificates checked as for HTTPS.
/// </summary>
/// <param name="options">Timeouts and buffer size.</param>
/// <param name="logger">Logger.</param>
public sealed class FtpPackageDownloader(TransferOptions? options = null, ILogger? logger = null) : IPackageDownloader
{
    private readonly TransferOptions _options = options ?? new TransferOptions();
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <inheritdoc />
    public bool Serves(string scheme) => scheme is "ftp" or "ftps";

    /// <inheritdoc />
    public async Task DownloadAsync(TransferUrl url, TransferCredentials? credentials, long maxBytes, IDownloadSink sink, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(sink);
        TransferLog.AttemptStarted(_logger, url, sink.Length);
        var login = credentials ?? (url.User is { } user ? new TransferCredentials(user, "") : TransferCredentials.Anonymous);
        var control = await FtpControlChannel.ConnectAsync(url, login, _options.ConnectTimeout, _options.IdleTimeout, cancellationToken).ConfigureAwait(false);
        await using (control.ConfigureAwait(false))
        {
            var tls = url.Scheme == "ftps" ? new TlsTrust(_options.TrustedRoots) : null;
            if (tls is not null)
            {
                await control.StartTlsAsync(tls, cancellationToken).ConfigureAwait(false);
            }

            await LoginAsync(control, url, login, cancellationToken).ConfigureAwait(false);
            Expect(await control.CommandAsync("TYPE", "I", cancellationToken).ConfigureAwait(false), 200, url, "TYPE I");
            var total = await SizeAsync(control, url, cancellationToken).ConfigureAwait(false);
            if (total > maxBytes)
            {
                throw new PackageRejectedException(PackageRejectReason.Oversized, $"{url} is {total} bytes, over the limit of {maxBytes}.");
            }

            var mdtm = await control.CommandAsync("MDTM", url.Path, cancellationToken).ConfigureAwait(false);
            var validator = mdtm.Code == 213 ? string.Create(CultureInfo.InvariantCulture, $"{mdtm.Text.Trim()}/{total}") : null;
            var resume = validator is not null && validator == sink.Validator && sink.Length > 0 && sink.Length <= total;
            if (!resume && sink.Length > 0)
            {
                TransferLog.RestartedFromZero(_logger, url, sink.Length);
            }

            var offset = resume ? sink.Length : 0;
            var endpoint = await PassiveEndpointAsync(control, url, cancellationToken).ConfigureAwait(false);
            if (offset > 0)
            {
                var rest = await control.CommandAsync("REST", offset.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
                if (rest.Code != 350)
                {
                    // The server cannot resume: take the file whole.
                    TransferLog.RestartedFromZero(_logger, url, sink.Length);
                    offset = 0;
                }
                else
                {
                    TransferLog.Resumed(_logger, url, offset, "REST");
                }
            }

            using var data = new TcpClient { NoDelay = true };
            await ConnectDataAsync(data, endpoint, url, cancellationToken).ConfigureAwait(false);
            await control.SendAsync("RETR", url.Path, cancellationToken).ConfigureAwait(false);
            Stream dataStream = data.GetStream();
            Task handshake = Task.CompletedTask;
            if (tls is not null)
            {
                // Servers differ in whether the data-connection handshake comes before or after the 150 reply:
                // run it while the reply is read.
                var secured = new SslStream(dataStream, leaveInnerStreamOpen: false);
                handshake = FtpControlChannel.AuthenticateAsync(secured, tls, url, _options.ConnectTimeout, cancellationToken);
                dataStream = secured;
            }

            var retr = await control.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            if (retr.Code is not (125 or 150))
            {
                data.Dispose(); // ends a pending handshake
                await handshake.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
                throw retr.Code == 550
                    ? new TransferNotFoundException($"{url}: no such file on the server (550).")
                    : new TransferProtocolException($"{url}: RETR refused ({retr.Code}).");
            }

            await handshake.ConfigureAwait(false);

            await using (dataStream.ConfigureAwait(false))
            {
                sink.Begin(total, validator, fromZero: offset == 0);
                await CopyDataAsync(dataStream, url, total, sink, cancellationToken).ConfigureAwait(false);
                if (dataStream is SslStream secured)
                {
                    // FTPS servers wait for the client's close_notify on the data connection before confirming (226).
                    try
                    {
                        await secured.ShutdownAsync().ConfigureAwait(false);
                    }
                    catch (IOException e)
                    {
                        throw new TransferInterruptedException($"{url}: the data connection broke at its TLS close.", e);
                    }
                }
            }

            var done = await control.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            if (done.Code != 226 && done.Code != 250)
            {
                throw new TransferInterruptedException($"{url}: the server did not confirm the transfer ({done.Code}).");
            }

            TransferLog.Completed(_logger, url, total);
            await control.CommandAsync("QUIT", null, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task LoginAsync(FtpControlChannel control, TransferUrl url, TransferCredentials login, CancellationToken cancellationToken)
    {
        var reply = await control.CommandAsync("USER", login.User, cancellationToken).ConfigureAwait(false);
        if (reply.Code == 331)
        {
            reply = await control.CommandAsync("PASS", login.Password, cancellationToken).ConfigureAwait(false);
        }

        if (reply.Code != 230)
        {
            throw reply.Code == 530
                ? new TransferAuthenticationException($"{url}: the server refused the login (530).")
                : new TransferProtocolException($"{url}: login failed ({reply.Code}).");
        }
    }

    private static async Task<long> SizeAsync(FtpControlChannel control, TransferUrl url, CancellationToken cancellationToken)
    {
        var size = await control.CommandAsync("SIZE", url.Path, cancellationToken).ConfigureAwait(false);
        if (size.Code == 550)
        {
            throw new TransferNotFoundException($"{url}: no such file on the server (550).");
        }

        return size.Code == 213 && long.TryParse(size.Text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var total)
            ? total
            : throw new TransferProtocolException($"{url}: SIZE failed ({size.Code}); the file's length is needed to resume safely.");
    }

    private static async Task<IPEndPoint> PassiveEndpointAsync(FtpControlChannel control, TransferUrl url, CancellationToken cancellationToken)
    {
        var epsv = await control.CommandAsync("EPSV", null, cancellationToken).ConfigureAwait(false);
        if (epsv.Code == 229 && FtpPassiveReply.TryParseEpsv(epsv.Text, out var port))
        {
            return new IPEndPoint(control.RemoteAddress, port);
        }

        var pasv = await control.CommandAsync("PASV", null, cancellationToken).ConfigureAwait(false);
        return pasv.Code == 227 && FtpPassiveReply.TryParsePasv(pasv.Text, out port)
            ? new IPEndPoint(control.RemoteAddress, port)
            : throw new TransferProtocolException($"{url}: the server offers no passive mode ({epsv.Code}/{pasv.Code}).");
    }

    private async Task ConnectDataAsync(TcpClient data, IPEndPoint endpoint, TransferUrl url, CancellationToken cancellationToken)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_options.ConnectTimeout);
            await data.ConnectAsync(endpoint, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TransferInterruptedException($"{url}: cannot open the data connection.", e);
        }
    }

    private async Task CopyDataAsync(Stream stream, TransferUrl url, long total, IDownloadSink sink, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_options.BufferSize);
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (sink.Length < total)
            {
                idle.CancelAfter(_options.IdleTimeout);
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, total - sink.Length)), idle.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                sink.Append(buffer.AsSpan(0, read));
            }
        }
        catch (Exception e) when (e is not TransferException && (e is IOException or SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)))
        {
            // A TransferException here comes from the sink (it refused the bytes): not a broken connection.
            TransferLog.Interrupted(_logger, url, sink.Length, total);
            throw new TransferInterruptedException($"{url}: the data connection broke after {sink.Length} of {total} bytes.", e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (sink.Length < total)
        {
            TransferLog.Interrupted(_logger, url, sink.Length, total);
            throw new TransferInterruptedException($"{url}: the data connection closed after {sink.Length} of {total} bytes.");
        }
    }

    private static void Expect(FtpReply reply, int code, TransferUrl url, string what)
    {
        if (reply.Code != code)
        {
            throw new TransferProtocolException($"{url}: {what} refused ({reply.Code}).");
        }
    }
}

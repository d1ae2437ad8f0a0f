using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace Flash.Svm.Transfer;

/// <summary>One FTP reply: its three-digit code and its text (last line of a multi-line reply).</summary>
/// <param name="Code">Reply code.</param>
/// <param name="Text">Reply text, already scrubbed of the credentials.</param>
internal readonly record struct FtpReply(int Code, string Text)
{
    public bool IsPositive => Code is >= 100 and < 400;
}

/// <summary>
/// The FTP control connection (RFC 959): commands out, replies in, with a deadline on every exchange. Never logs or
/// returns the argument of <c>PASS</c>, and scrubs the credentials from reply text (some servers echo the user).
/// </summary>
internal sealed class FtpControlChannel : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private Stream _stream;
    private StreamReader _reader;
    private readonly TransferUrl _url;
    private readonly TransferCredentials? _credentials;
    private readonly TimeSpan _timeout;

    private FtpControlChannel(TcpClient tcp, TransferUrl url, TransferCredentials? credentials, TimeSpan timeout)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.Latin1, detectEncodingFromByteOrderMarks: false, bufferSize: 1024, leaveOpen: true);
        _url = url;
        _credentials = credentials;
        _timeout = timeout;
    }

    public static async Task<FtpControlChannel> ConnectAsync(TransferUrl url, TransferCredentials? credentials, TimeSpan connectTimeout, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(connectTimeout);
            await tcp.ConnectAsync(url.Host, url.Port, deadline.Token).ConfigureAwait(false);
            var channel = new FtpControlChannel(tcp, url, credentials, timeout);
            var greeting = await channel.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            if (greeting.Code != 220)
            {
                await channel.DisposeAsync().ConfigureAwait(false);
                throw new TransferInterruptedException($"{url}: the server is not ready ({greeting.Code}).");
            }

            return channel;
        }
        catch (Exception e) when (e is SocketException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            tcp.Dispose();
            throw e is TransferException ? e : new TransferInterruptedException($"{url}: cannot connect.", e);
        }
    }

    /// <summary>
    /// Explicit FTPS (RFC 4217): <c>AUTH TLS</c>, then TLS on the control connection, then <c>PBSZ 0</c> and
    /// <c>PROT P</c> so that data connections are encrypted too. Must come before <c>USER</c>.
    /// </summary>
    public async Task StartTlsAsync(TlsTrust trust, CancellationToken cancellationToken)
    {
        var auth = await CommandAsync("AUTH", "TLS", cancellationToken).ConfigureAwait(false);
        if (auth.Code != 234)
        {
            throw new TransferProtocolException($"{_url}: the server does not offer TLS ({auth.Code}).");
        }

        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        await AuthenticateAsync(tls, trust, _url, _timeout, cancellationToken).ConfigureAwait(false);
        _reader.Dispose();
        _stream = tls;
        _reader = new StreamReader(_stream, Encoding.Latin1, detectEncodingFromByteOrderMarks: false, bufferSize: 1024, leaveOpen: true);
        if ((await CommandAsync("PBSZ", "0", cancellationToken).ConfigureAwait(false)).Code != 200
            || (await CommandAsync("PROT", "P", cancellationToken).ConfigureAwait(false)).Code != 200)
        {
            throw new TransferProtocolException($"{_url}: the server refused protected data connections.");
        }
    }

    /// <summary>Runs a TLS client handshake, mapping failures to trust or interruption errors.</summary>
    public static async Task AuthenticateAsync(SslStream tls, TlsTrust trust, TransferUrl url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            await tls.AuthenticateAsClientAsync(trust.ClientOptions(url.Host), deadline.Token).ConfigureAwait(false);
        }
        catch (AuthenticationException e)
        {
            throw new TransferTrustException($"{url}: the server's TLS certificate is not trusted.", e);
        }
        catch (Exception e) when (e is IOException or SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TransferInterruptedException($"{url}: the TLS handshake broke.", e);
        }
    }

    public System.Net.IPAddress RemoteAddress => ((System.Net.IPEndPoint)_tcp.Client.RemoteEndPoint!).Address;

    /// <summary>Sends a command and reads its reply.</summary>
    public async Task<FtpReply> CommandAsync(string verb, string? argument, CancellationToken cancellationToken)
    {
        await SendAsync(verb, argument, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a command without waiting for its reply.</summary>
    public async Task SendAsync(string verb, string? argument, CancellationToken cancellationToken)
    {
        var line = argument is null ? verb + "\r\n" : verb + " " + argument + "\r\n";
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_timeout);
            await _stream.WriteAsync(Encoding.Latin1.GetBytes(line), deadline.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TransferInterruptedException($"{_url}: the control connection broke sending {verb}.", e);
        }
    }

    /// <summary>Reads one (possibly multi-line) reply.</summary>
    public async Task<FtpReply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(_timeout);
            var first = await ReadLineAsync(deadline.Token).ConfigureAwait(false);
            if (first.Length < 3 || !int.TryParse(first.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
            {
                throw new TransferProtocolException($"{_url}: malformed reply.");
            }

            var last = first;
            if (first.Length > 3 && first[3] == '-')
            {
                // Multi-line: runs until a line starting with the same code and a space.
                var end = first[..3] + " ";
                do
                {
                    last = await ReadLineAsync(deadline.Token).ConfigureAwait(false);
                }
                while (!last.StartsWith(end, StringComparison.Ordinal));
            }

            return new FtpReply(code, Redaction.Scrub(last.Length > 4 ? last[4..] : "", _credentials));
        }
        catch (Exception e) when (e is IOException or SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new TransferInterruptedException($"{_url}: the control connection broke or timed out.", e);
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken) =>
        await _reader.ReadLineAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new TransferInterruptedException($"{_url}: the server closed the control connection.");

    public async ValueTask DisposeAsync()
    {
        _reader.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _tcp.Dispose();
    }
}

using System.Globalization;
using System.Net.Sockets;
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
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;
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

    public System.Net.IPAddress RemoteAddress => ((System.Net.IPEndPoint)_tcp.Client.RemoteEndPoint!).Address;

    /// <summary>Sends a command and reads its reply.</summary>
    public async Task<FtpReply> CommandAsync(string verb, string? argument, CancellationToken cancellationToken)
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

        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
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

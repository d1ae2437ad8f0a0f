using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flash.Svm.Management.Tl1;

/// <summary>
/// The manager's side of one TL1 session: sends input messages and splits the output into messages (a response or
/// autonomous message ends in <c>\r\n;</c>, an IP acknowledgment in <c>\r\n&lt;</c>). Autonomous messages are kept in
/// <see cref="Autonomous"/>.
/// </summary>
public sealed class Tl1Connection : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly StringBuilder _pending = new();
    private readonly byte[] _buffer = new byte[8192];
    private int _ctag;

    private Tl1Connection(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    /// <summary>Autonomous messages received so far.</summary>
    public IList<string> Autonomous { get; } = new List<string>();

    /// <summary>Connects.</summary>
    /// <param name="endpoint">The agent.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The connection.</returns>
    public static async Task<Tl1Connection> ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
            return new Tl1Connection(tcp);
        }
        catch
        {
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Sends a command (its CTAG block is filled in) and returns the final response.</summary>
    /// <param name="format">The command with <c>{0}</c> where the CTAG goes, e.g. <c>RTRV-SW:::{0};</c>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True for COMPLD, and the response text.</returns>
    public async Task<(bool Completed, string Response)> CommandAsync(string format, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(format);
        string ctag = (++_ctag).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, ctag)), cancellationToken).ConfigureAwait(false);
        while (true)
        {
            var m = await NextAsync(cancellationToken).ConfigureAwait(false);
            if (m.Contains($"\r\nM  {ctag} COMPLD", StringComparison.Ordinal))
            {
                return (true, m);
            }

            if (m.Contains($"\r\nM  {ctag} DENY", StringComparison.Ordinal))
            {
                return (false, m);
            }
        }
    }

    /// <summary>Waits for an autonomous message containing one of some texts (already received ones count).</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <param name="texts">The texts.</param>
    /// <returns>The message.</returns>
    public async Task<string> AutonomousAsync(CancellationToken cancellationToken, params string[] texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        while (true)
        {
            var hit = Autonomous.FirstOrDefault(a => texts.Any(t => a.Contains(t, StringComparison.Ordinal)));
            if (hit is not null)
            {
                return hit;
            }

            await NextAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Closes the session (synchronous: closing a socket waits for nothing).</summary>
    public void Dispose() => _tcp.Dispose();

    private async Task<string> NextAsync(CancellationToken ct)
    {
        while (true)
        {
            var s = _pending.ToString();
            int semi = s.IndexOf("\r\n;", StringComparison.Ordinal);
            int ip = s.IndexOf("\r\n<", StringComparison.Ordinal);
            int end = semi < 0 ? ip : ip < 0 ? semi : Math.Min(semi, ip);
            if (end >= 0)
            {
                var m = s[..(end + 3)];
                _pending.Remove(0, end + 3);
                var lines = m.Split("\r\n");
                if (lines.Length > 2 && (lines[2].StartsWith('A') || lines[2].StartsWith('*')))
                {
                    Autonomous.Add(m);
                }

                return m;
            }

            int n = await _stream.ReadAsync(_buffer, ct).ConfigureAwait(false);
            if (n == 0)
            {
                throw new EndOfStreamException("The TL1 agent closed the connection.");
            }

            _pending.Append(Encoding.ASCII.GetString(_buffer, 0, n));
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Flash.Svm.Management.Tests.Tl1;

/// <summary>A minimal TL1 craft client for the tests: sends input messages, splits output into messages (ending in <c>\r\n;</c> or, for IP acknowledgments, <c>\r\n&lt;</c>).</summary>
internal sealed class Tl1Client : IAsyncDisposable
{
    private readonly TcpClient _tcp = new();
    private readonly StringBuilder _pending = new();
    private readonly byte[] _buffer = new byte[8192];
    private NetworkStream? _stream;

    public List<string> Autonomous { get; } = [];

    public List<string> All { get; } = [];

    public static async Task<Tl1Client> ConnectAsync(IPEndPoint endpoint)
    {
        var c = new Tl1Client();
        await c._tcp.ConnectAsync(endpoint);
        c._stream = c._tcp.GetStream();
        return c;
    }

    public async Task SendAsync(string text) => await _stream!.WriteAsync(Encoding.ASCII.GetBytes(text));

    /// <summary>Sends a command and returns its final response (COMPLD or DENY), keeping IP acknowledgments and autonomous messages seen meanwhile.</summary>
    public async Task<string> CommandAsync(string text, string ctag, TimeSpan? timeout = null)
    {
        await SendAsync(text);
        return await ResponseAsync(ctag, timeout);
    }

    public async Task<string> ResponseAsync(string ctag, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var m = await NextAsync(cts.Token);
            if (m.Contains($"\r\nM  {ctag} ", StringComparison.Ordinal))
            {
                return m;
            }
        }
    }

    /// <summary>Waits for an autonomous message containing a text (already received ones count).</summary>
    public async Task<string> AutonomousAsync(string contains, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var hit = Autonomous.FirstOrDefault(a => a.Contains(contains, StringComparison.Ordinal));
            if (hit is not null)
            {
                return hit;
            }

            await NextAsync(cts.Token);
        }
    }

    public async Task<string> NextAsync(CancellationToken ct)
    {
        while (true)
        {
            var s = _pending.ToString();
            int end = IndexOfEnd(s, out int length);
            if (end >= 0)
            {
                var m = s[..(end + length)];
                _pending.Remove(0, end + length);
                All.Add(m);
                if (m.Contains("\r\nA  ", StringComparison.Ordinal) || m.Contains("\r\n*", StringComparison.Ordinal))
                {
                    Autonomous.Add(m);
                }

                return m;
            }

            int n = await _stream!.ReadAsync(_buffer, ct);
            if (n == 0)
            {
                throw new EndOfStreamException("the agent closed the connection");
            }

            _pending.Append(Encoding.ASCII.GetString(_buffer, 0, n));
        }
    }

    private static int IndexOfEnd(string s, out int length)
    {
        int semi = s.IndexOf("\r\n;", StringComparison.Ordinal);
        int ip = s.IndexOf("\r\n<", StringComparison.Ordinal);
        length = 3;
        return semi < 0 ? ip : ip < 0 ? semi : Math.Min(semi, ip);
    }

    public async ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        await Task.CompletedTask;
    }
}

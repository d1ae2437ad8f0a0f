using System.Net;
using System.Net.Sockets;

namespace Flash.Svm.Transfer.Tests.Servers;

/// <summary>What <see cref="FaultyProxy"/> does to the first connection once it has forwarded its byte budget.</summary>
public enum ProxyFault
{
    /// <summary>Abort both sides with a TCP reset (SO_LINGER 0).</summary>
    Reset,
    /// <summary>Stop forwarding but keep the connection open (a stalled server).</summary>
    Stall,
}

/// <summary>
/// A loopback TCP proxy in front of a real server that breaks the first connection after a number of
/// server-to-client bytes; later connections pass untouched. Lives for one test.
/// </summary>
internal sealed class FaultyProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _upstreamPort;
    private readonly long _budget;
    private readonly ProxyFault _fault;
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    public FaultyProxy(int upstreamPort, long budget, ProxyFault fault)
    {
        _upstreamPort = upstreamPort;
        _budget = budget;
        _fault = fault;
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                var first = Interlocked.Increment(ref _connections) == 1;
                _ = ServeAsync(client, first ? _budget : long.MaxValue);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task ServeAsync(TcpClient client, long budget)
    {
        using var upstream = new TcpClient();
        using (client)
        {
            try
            {
                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, _stop.Token);
                var up = CopyAsync(client.GetStream(), upstream.GetStream(), long.MaxValue);
                var down = CopyAsync(upstream.GetStream(), client.GetStream(), budget);
                await Task.WhenAny(up, down);
                if (budget != long.MaxValue && down.IsCompletedSuccessfully && await down)
                {
                    if (_fault == ProxyFault.Reset)
                    {
                        client.Client.LingerState = new LingerOption(true, 0);
                        upstream.Client.LingerState = new LingerOption(true, 0);
                    }
                    else
                    {
                        await Task.Delay(Timeout.Infinite, _stop.Token);
                    }
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>Copies until end of stream or until <paramref name="budget"/> bytes; true when the budget ran out.</summary>
    private async Task<bool> CopyAsync(Stream from, Stream to, long budget)
    {
        var buffer = new byte[16 * 1024];
        long sent = 0;
        while (sent < budget)
        {
            var read = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, budget - sent)), _stop.Token);
            if (read == 0)
            {
                return false;
            }

            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            sent += read;
        }

        return true;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _stop.Dispose();
    }
}

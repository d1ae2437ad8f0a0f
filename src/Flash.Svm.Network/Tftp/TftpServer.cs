using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Flash.Svm.Network.Components;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Network.Tftp;

/// <summary>
/// A read-only TFTP server (RFC 1350; options of RFC 2347, 2348 blksize, 2349 tsize/timeout, 7440 windowsize) for
/// booting processor modules: it serves each module the component files the SGC file maps to it, streamed from the
/// component store block by block and checked against the SGC digest as they go. Every transfer runs on its own
/// socket (its own transfer id) and task; the listening socket only parses requests.
/// </summary>
public sealed class TftpServer : IAsyncDisposable
{
    private readonly IComponentStore _store;
    private readonly TftpServerOptions _options;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<IPEndPoint, TftpTransfer> _active = new();
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private Task? _loop;
    private long _started, _completed, _aborted, _refused, _dropped, _bytes, _retransmissions;

    /// <summary>Creates the server; nothing listens until <see cref="Start"/>.</summary>
    /// <param name="store">What is served.</param>
    /// <param name="options">Settings.</param>
    public TftpServer(IComponentStore store, TftpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options;
        _log = options.Logger ?? NullLogger.Instance;
    }

    /// <summary>The bound address and port (after <see cref="Start"/>).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? throw new InvalidOperationException("The server is not started."));

    /// <summary>Transfers in progress.</summary>
    public int ActiveTransfers => _active.Count;

    /// <summary>Counters since start.</summary>
    public TftpStatistics Statistics => new(
        Interlocked.Read(ref _started), Interlocked.Read(ref _completed), Interlocked.Read(ref _aborted), Interlocked.Read(ref _refused),
        Interlocked.Read(ref _dropped), Interlocked.Read(ref _bytes), Interlocked.Read(ref _retransmissions));

    internal TftpServerOptions Options => _options;

    internal IComponentStore Store => _store;

    internal ILogger Log => _log;

    /// <summary>Binds the socket and starts serving.</summary>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public void Start()
    {
        if (_socket is not null)
        {
            throw new InvalidOperationException("The server is already started.");
        }

        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            s.Bind(_options.Endpoint);
        }
        catch
        {
            s.Dispose();
            throw;
        }

        _socket = s;
        _log.LogInformation(NetworkEvents.ServerStarted, "TFTP server listening on {Endpoint}", LocalEndPoint);
        _loop = Task.Run(() => ReceiveLoopAsync(s, _stop.Token));
    }

    /// <summary>Stops listening, aborts transfers in progress and waits for them.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_socket is null)
        {
            _stop.Dispose();
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        foreach (var t in _active.Values)
        {
            await t.Completion.ConfigureAwait(false);
        }

        _stop.Dispose();
        _log.LogInformation(NetworkEvents.ServerStopped, "TFTP server stopped");
    }

    internal void CountSent(int bytes) => Interlocked.Add(ref _bytes, bytes);

    internal void CountRetransmission() => Interlocked.Increment(ref _retransmissions);

    internal void Finished(TftpTransfer transfer, bool completed)
    {
        _active.TryRemove(new KeyValuePair<IPEndPoint, TftpTransfer>(transfer.Client, transfer));
        Interlocked.Increment(ref completed ? ref _completed : ref _aborted);
    }

    private async Task ReceiveLoopAsync(Socket socket, CancellationToken stop)
    {
        var buffer = new byte[TftpPacket.MaxRequestLength + 1];
        var reply = new byte[600];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // An ICMP port-unreachable from an earlier error packet; keep serving.
                continue;
            }

            var client = (IPEndPoint)r.RemoteEndPoint;
            try
            {
                await HandleAsync(socket, client, buffer.AsMemory(0, r.ReceivedBytes), reply, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                _log.LogDebug(NetworkEvents.MalformedPacket, "TFTP: could not answer {Client}: {Error}", client, ex.SocketErrorCode);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException)
            {
                // The served context cannot be read (storage failing): this request fails, the server keeps listening.
                _log.LogError(NetworkEvents.TftpRequestRefused, ex, "TFTP: request from {Client} failed: the served context is unreadable", client);
            }
        }
    }

    private async Task HandleAsync(Socket socket, IPEndPoint client, ReadOnlyMemory<byte> packet, byte[] reply, CancellationToken stop)
    {
        var op = TftpPacket.OpcodeOf(packet.Span);
        if (op is TftpOpcode.Data or TftpOpcode.Ack or TftpOpcode.Error or TftpOpcode.OptionAck || op is null)
        {
            // Stray transfer packets on the request port (or a runt): RFC 1350 gives them no answer here.
            Interlocked.Increment(ref _dropped);
            return;
        }

        if (!TftpPacket.TryParseRequest(packet.Span, out var request))
        {
            Interlocked.Increment(ref _dropped);
            _log.LogDebug(NetworkEvents.MalformedPacket, "TFTP: malformed request from {Client} ({Length} bytes)", client, packet.Length);
            if (op is TftpOpcode.ReadRequest or TftpOpcode.WriteRequest)
            {
                await RefuseAsync(socket, client, reply, TftpError.IllegalOperation, "malformed request", stop).ConfigureAwait(false);
            }
            else
            {
                await RefuseAsync(socket, client, reply, TftpError.IllegalOperation, "unknown opcode", stop).ConfigureAwait(false);
            }

            return;
        }

        if (request!.Opcode == TftpOpcode.WriteRequest)
        {
            await RefuseAsync(socket, client, reply, TftpError.AccessViolation, "read-only server", stop).ConfigureAwait(false);
            return;
        }

        if (request.Mode != "octet")
        {
            // Component images are binary: a netascii translation would change the bytes the SGC digest covers.
            await RefuseAsync(socket, client, reply, TftpError.IllegalOperation, $"mode {request.Mode} not supported, use octet", stop).ConfigureAwait(false);
            return;
        }

        if (_active.ContainsKey(client))
        {
            // A retransmitted request: the transfer already answers it (with OACK or DATA 1 retransmissions).
            Interlocked.Increment(ref _dropped);
            return;
        }

        var slot = _options.Plan.ByAddress(client.Address);
        var sgc = await _store.SgcAsync(stop).ConfigureAwait(false);
        var refusal = ServedFiles.Resolve(sgc, slot?.Module, isOperator: false, request.FileName, out var component);
        if (refusal != ServeRefusal.None)
        {
            var (code, text) = refusal switch
            {
                ServeRefusal.BadName => (TftpError.AccessViolation, "not a component name"),
                ServeRefusal.UnknownRequester => (TftpError.AccessViolation, "unknown module address"),
                ServeRefusal.NotMapped => (TftpError.AccessViolation, "component not mapped to this module"),
                _ => (TftpError.FileNotFound, "no such component"),
            };
            _log.LogInformation(NetworkEvents.TftpRequestRefused, "TFTP: refused {File} to {Client} ({Module}): {Reason}", request.FileName, client, slot?.Module.ToString() ?? "unknown", text);
            await RefuseAsync(socket, client, reply, code, text, stop).ConfigureAwait(false);
            return;
        }

        if (_active.Count >= _options.MaxTransfers)
        {
            await RefuseAsync(socket, client, reply, TftpError.Undefined, "server busy, retry later", stop).ConfigureAwait(false);
            return;
        }

        var parameters = TftpNegotiation.Negotiate(request.Options, component!.Size, _options.Limits);
        var transfer = new TftpTransfer(this, client, slot!.Module, component, parameters);
        if (!_active.TryAdd(client, transfer))
        {
            transfer.Dispose();
            return;
        }

        Interlocked.Increment(ref _started);
        _log.LogInformation(NetworkEvents.TftpTransferStarted, "TFTP: sending {File} ({Size} bytes) to {Module} at {Client}, blksize {Block}, window {Window}",
            component.Name, component.Size, slot.Module, client, parameters.BlockSize, parameters.WindowSize);
        transfer.Start(((IPEndPoint)socket.LocalEndPoint!).Address, _stop.Token);
    }

    private async Task RefuseAsync(Socket socket, IPEndPoint client, byte[] reply, TftpError code, string message, CancellationToken stop)
    {
        Interlocked.Increment(ref _refused);
        int n = TftpPacket.WriteError(reply, code, message);
        await socket.SendToAsync(reply.AsMemory(0, n), SocketFlags.None, client, stop).ConfigureAwait(false);
    }
}

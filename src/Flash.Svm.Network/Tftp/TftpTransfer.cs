using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Flash.Svm.Network.Components;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Network.Tftp;

/// <summary>
/// One read transfer: its own socket connected to the client (the transfer id pair of RFC 1350), an OACK when options
/// were accepted, then windows of DATA blocks (RFC 7440) kept in a ring buffer so that a retransmission sends the same
/// bytes without reading flash again. Blocks are read from the store in file order and fed to the SGC digest; the last
/// block is sent only after the digest matched, so a client never completes a corrupted image.
/// </summary>
internal sealed class TftpTransfer : IDisposable
{
    private readonly TftpServer _server;
    private readonly SgcComponent _component;
    private readonly TftpTransferParameters _p;
    private readonly ModuleAddress _module;
    private readonly long _lastBlock;
    private readonly int _slotSize;
    private readonly byte[] _ring;
    private readonly int[] _lengths;
    private readonly byte[] _control = new byte[600];
    private readonly ComponentDigest _digest;
    private readonly TimeSpan _timeout;
    private Socket? _socket;
    private CancellationTokenSource? _timer;

    public TftpTransfer(TftpServer server, IPEndPoint client, ModuleAddress module, SgcComponent component, TftpTransferParameters parameters)
    {
        _server = server;
        Client = client;
        _module = module;
        _component = component;
        _p = parameters;
        _lastBlock = component.Size / parameters.BlockSize + 1;
        _slotSize = parameters.BlockSize + 4;
        _ring = ArrayPool<byte>.Shared.Rent(_slotSize * parameters.WindowSize);
        _lengths = new int[parameters.WindowSize];
        _digest = new ComponentDigest(component);
        _timeout = parameters.TimeoutSeconds > 0 ? TimeSpan.FromSeconds(parameters.TimeoutSeconds) : server.Options.RetransmitTimeout;
    }

    public IPEndPoint Client { get; }

    public Task Completion { get; private set; } = Task.CompletedTask;

    public void Start(IPAddress local, CancellationToken stop)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(local, 0));
        s.Connect(Client);
        _socket = s;
        Completion = Task.Run(() => RunAsync(stop), CancellationToken.None);
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _socket?.Dispose();
        _digest.Dispose();
        ArrayPool<byte>.Shared.Return(_ring);
    }

    private async Task RunAsync(CancellationToken stop)
    {
        bool completed = false;
        string? reason = null;
        try
        {
            reason = await SendAsync(stop).ConfigureAwait(false);
            completed = reason is null;
        }
        catch (OperationCanceledException)
        {
            reason = "server stopping";
        }
        catch (Exception ex) when (ex is IOException or SocketException or InvalidDataException)
        {
            reason = ex.Message;
            await TrySendErrorAsync(TftpError.Undefined, "read failure on the node's storage").ConfigureAwait(false);
        }
        finally
        {
            if (completed)
            {
                _server.Log.LogInformation(NetworkEvents.TftpTransferCompleted, "TFTP: {File} sent to {Module} at {Client}", _component.Name, _module, Client);
            }
            else
            {
                _server.Log.LogWarning(NetworkEvents.TftpTransferAborted, "TFTP: transfer of {File} to {Module} at {Client} aborted: {Reason}", _component.Name, _module, Client, reason);
            }

            _server.Finished(this, completed);
            Dispose();
        }
    }

    /// <returns>Null when the transfer completed, or why it did not.</returns>
    private async Task<string?> SendAsync(CancellationToken stop)
    {
        var socket = _socket!;
        if (_p.Accepted.Count > 0)
        {
            int n = TftpPacket.WriteOptionAck(_control, _p.Accepted);
            int tries = 0;
            while (true)
            {
                await socket.SendAsync(_control.AsMemory(0, n), SocketFlags.None, stop).ConfigureAwait(false);
                var (kind, block) = await ReceiveAsync(socket, stop).ConfigureAwait(false);
                if (kind == Reply.Ack && block == 0)
                {
                    break;
                }

                if (kind == Reply.Error)
                {
                    return "the client refused the options";
                }

                if (kind == Reply.Timeout && ++tries > _server.Options.MaxRetransmissions)
                {
                    return "no ACK of the OACK";
                }
            }
        }

        long first = 1;          // oldest unacknowledged block
        long sentEnd = 0;        // highest block read into the ring and sent
        int retries = 0;
        while (true)
        {
            long windowEnd = Math.Min(first + _p.WindowSize - 1, _lastBlock);
            for (long b = sentEnd + 1; b <= windowEnd; b++)
            {
                if (!await ReadBlockAsync(b, stop).ConfigureAwait(false))
                {
                    return "digest mismatch";
                }

                await SendBlockAsync(socket, b, stop).ConfigureAwait(false);
                sentEnd = b;
            }

            var (kind, ack) = await ReceiveAsync(socket, stop).ConfigureAwait(false);
            switch (kind)
            {
                case Reply.Ack:
                    long acked = Resolve(ack, first - 1, sentEnd);
                    if (acked < first)
                    {
                        // A duplicate or stale ACK: never answer it with data (the sorcerer's apprentice bug);
                        // the timeout retransmits if something really was lost.
                        continue;
                    }

                    if (acked == _lastBlock)
                    {
                        return null;
                    }

                    first = acked + 1;
                    retries = 0;
                    if (sentEnd >= first)
                    {
                        // Part of the window was lost (RFC 7440): send the rest again at once.
                        for (long b = first; b <= sentEnd; b++)
                        {
                            await SendBlockAsync(socket, b, stop).ConfigureAwait(false);
                        }
                    }

                    break;
                case Reply.Error:
                    return "the client sent an error";
                case Reply.Timeout:
                    if (++retries > _server.Options.MaxRetransmissions)
                    {
                        return "timed out";
                    }

                    _server.CountRetransmission();
                    for (long b = first; b <= sentEnd; b++)
                    {
                        await SendBlockAsync(socket, b, stop).ConfigureAwait(false);
                    }

                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>The block index an ACK's 16-bit number denotes within [lowest, highest], or -1 (block numbers wrap).</summary>
    private static long Resolve(ushort ack, long lowest, long highest)
    {
        for (long b = highest; b >= lowest && b >= 0; b--)
        {
            if ((ushort)b == ack)
            {
                return b;
            }
        }

        return -1;
    }

    private async Task<bool> ReadBlockAsync(long block, CancellationToken stop)
    {
        int slot = (int)(block % _p.WindowSize);
        long offset = (block - 1) * _p.BlockSize;
        int want = (int)Math.Min(_p.BlockSize, _component.Size - offset);
        var dest = _ring.AsMemory(slot * _slotSize + 4, want);
        int got = want == 0 ? 0 : await _server.Store.ReadAsync(_component, offset, dest, stop).ConfigureAwait(false);
        _digest.Feed(offset, dest.Span[..got]);
        _lengths[slot] = got;
        bool ok = got == want && (block != _lastBlock || _digest.Complete());
        if (ok)
        {
            return true;
        }

        _server.Log.LogError(NetworkEvents.DigestMismatch, "TFTP: {File} does not match its SGC digest while sent to {Module}; transfer aborted, healing from the mirror", _component.Name, _module);
        await TrySendErrorAsync(TftpError.Undefined, "component failed its digest check on the node; retry").ConfigureAwait(false);
        bool healed = await _server.Store.HealAsync(_component, stop).ConfigureAwait(false);
        if (healed)
        {
            _server.Log.LogWarning(NetworkEvents.ComponentHealed, "{File} repaired on the primary from the mirror", _component.Name);
        }

        return false;
    }

    private async Task SendBlockAsync(Socket socket, long block, CancellationToken stop)
    {
        int slot = (int)(block % _p.WindowSize);
        var packet = _ring.AsMemory(slot * _slotSize, 4 + _lengths[slot]);
        TftpPacket.WriteDataHeader(packet.Span, (ushort)block);
        await socket.SendAsync(packet, SocketFlags.None, stop).ConfigureAwait(false);
        _server.CountSent(_lengths[slot]);
    }

    private async Task<(Reply Kind, ushort Block)> ReceiveAsync(Socket socket, CancellationToken stop)
    {
        // One timer per transfer, reset for every wait: no allocation per window.
        if (_timer is null || !_timer.TryReset())
        {
            _timer?.Dispose();
            _timer = CancellationTokenSource.CreateLinkedTokenSource(stop);
        }

        var timeout = _timer;
        timeout.CancelAfter(_timeout);
        while (true)
        {
            int n;
            try
            {
                n = await socket.ReceiveAsync(_control, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                return (Reply.Timeout, 0);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused || ex.SocketErrorCode == SocketError.ConnectionReset)
            {
                // The client's port is closed (ICMP unreachable): it gave up.
                return (Reply.Error, 0);
            }

            var packet = _control.AsSpan(0, n);
            if (TftpPacket.TryParseAck(packet, out ushort block))
            {
                return (Reply.Ack, block);
            }

            if (TftpPacket.OpcodeOf(packet) == TftpOpcode.Error)
            {
                return (Reply.Error, 0);
            }

            // Anything else from the client is ignored; keep waiting within the same timeout.
        }
    }

    private async Task TrySendErrorAsync(TftpError code, string message)
    {
        try
        {
            int n = TftpPacket.WriteError(_control, code, message);
            await _socket!.SendAsync(_control.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            // Best effort: the client times out anyway.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private enum Reply
    {
        Ack,
        Error,
        Timeout,
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Network.Dhcp;

/// <summary>
/// The DHCP server of the module network (RFC 2131/2132): each module slot gets its fixed address, the subnet mask,
/// router, name servers, host name, lease time, server identifier, TFTP server and boot file (options 1, 3, 6, 12,
/// 51, 54, 66, 67) and the BOOTP <c>siaddr</c>/<c>file</c> fields; DECLINE, RELEASE and INFORM are handled and leases
/// are kept in a lease file across restarts. Nothing is answered to unknown clients, relayed messages or other subnets.
/// </summary>
public sealed class DhcpServer : IAsyncDisposable
{
    private readonly DhcpServerOptions _options;
    private readonly ILogger _log;
    private readonly Dictionary<IPAddress, DhcpLease> _leases = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private Task? _loop;
    private long _answered, _ignored, _malformed;

    /// <summary>Creates the server and loads the lease file; a damaged lease file is logged and replaced at the next change.</summary>
    /// <param name="options">Settings.</param>
    /// <exception cref="ArgumentException">A slot address is outside the subnet or is the server's own.</exception>
    public DhcpServer(DhcpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = options.Logger ?? NullLogger.Instance;
        foreach (var s in options.Plan.Slots)
        {
            if (!DhcpPolicy.InSubnet(s.Address, options) || s.Address.Equals(options.ServerAddress))
            {
                throw new ArgumentException($"Slot {s.Module}: {s.Address} is not a client address of the module subnet.", nameof(options));
            }
        }

        if (options.LeaseFile is { } file)
        {
            try
            {
                foreach (var l in DhcpLeaseFile.Load(file))
                {
                    _leases[l.Address] = l;
                }
            }
            catch (InvalidDataException ex)
            {
                _log.LogError(NetworkEvents.DhcpIgnored, ex, "DHCP: lease file {File} is damaged; starting with no leases", file);
            }
        }
    }

    /// <summary>The leases known (bound, released, declined).</summary>
    public IReadOnlyList<DhcpLease> Leases
    {
        get
        {
            lock (_lock)
            {
                return _leases.Values.OrderBy(l => l.Address.ToString(), StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>Messages answered, ignored and malformed since start.</summary>
    public (long Answered, long Ignored, long Malformed) Counters => (Interlocked.Read(ref _answered), Interlocked.Read(ref _ignored), Interlocked.Read(ref _malformed));

    /// <summary>The bound endpoint (after <see cref="Start"/>).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? throw new InvalidOperationException("The server is not started."));

    /// <summary>Binds 0.0.0.0:port (bound to the interface when one is named) and starts serving.</summary>
    /// <exception cref="SocketException">The port cannot be bound or the interface does not exist.</exception>
    public void Start()
    {
        if (_socket is not null)
        {
            throw new InvalidOperationException("The server is already started.");
        }

        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.EnableBroadcast = true;
            if (_options.InterfaceName is { } ifname)
            {
                // SO_BINDTODEVICE: receive only from, and send broadcasts only through, the module network's interface.
                const int SolSocket = 1, SoBindToDevice = 25;
                s.SetRawSocketOption(SolSocket, SoBindToDevice, Encoding.ASCII.GetBytes(ifname + "\0"));
            }

            s.Bind(new IPEndPoint(IPAddress.Any, _options.Port));
        }
        catch
        {
            s.Dispose();
            throw;
        }

        _socket = s;
        _log.LogInformation(NetworkEvents.ServerStarted, "DHCP server {Server} listening on port {Port}{Interface}", _options.ServerAddress, _options.Port, _options.InterfaceName is null ? "" : " of " + _options.InterfaceName);
        _loop = Task.Run(() => LoopAsync(s, _stop.Token));
    }

    /// <summary>Stops the server.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _stop.Dispose();
    }

    /// <summary>Handles one message and returns the reply to send, if any (the socket-free core, for tests and fuzzing).</summary>
    /// <param name="message">The UDP payload.</param>
    /// <param name="reply">Reply buffer (at least 576 bytes).</param>
    /// <param name="destination">Where the reply goes.</param>
    /// <returns>Reply length, or 0 for no reply.</returns>
    public int Handle(ReadOnlySpan<byte> message, Span<byte> reply, out IPEndPoint? destination)
    {
        destination = null;
        if (!DhcpPacket.TryParse(message, out var request))
        {
            Interlocked.Increment(ref _malformed);
            return 0;
        }

        var now = _options.Time.GetUtcNow();
        DhcpDecision decision;
        lock (_lock)
        {
            decision = DhcpPolicy.Decide(request!, _options, a => _leases.TryGetValue(a, out var l) && l.State == DhcpLeaseState.Declined && l.Expires > now);
        }

        var slot = decision.Slot;
        switch (decision.Action)
        {
            case DhcpAction.Ignore:
                Interlocked.Increment(ref _ignored);
                _log.LogDebug(NetworkEvents.DhcpIgnored, "DHCP: ignored {Type} from {Mac}: {Reason}", request!.MessageType, request.Mac, decision.Reason);
                return 0;
            case DhcpAction.Decline:
                Record(slot!, request!, DhcpLeaseState.Declined, now + _options.DeclineHold);
                _log.LogWarning(NetworkEvents.DhcpDecline, "DHCP: {Module} declined {Address} (address conflict); held back for {Hold}", slot!.Module, slot.Address, _options.DeclineHold);
                return 0;
            case DhcpAction.Release:
                Record(slot!, request!, DhcpLeaseState.Released, now);
                _log.LogInformation(NetworkEvents.DhcpRelease, "DHCP: {Module} released {Address}", slot!.Module, slot.Address);
                return 0;
            default:
                break;
        }

        var r = new DhcpPacket
        {
            Op = 2,
            HardwareType = request!.HardwareType,
            HardwareLength = request.HardwareLength,
            TransactionId = request.TransactionId,
            Flags = request.Flags,
            RelayAddress = request.RelayAddress,
            ClientHardware = request.ClientHardware,
        };
        var boot = _options.BootServer ?? _options.ServerAddress;
        DhcpMessageType type;
        if (decision.Action == DhcpAction.Nak)
        {
            type = DhcpMessageType.Nak;
            r.Options.Add(new(DhcpOption.MessageType, [(byte)type]));
            r.Options.Add(new(DhcpOption.ServerId, _options.ServerAddress.GetAddressBytes()));
            r.Options.Add(new(DhcpOption.Message, Encoding.ASCII.GetBytes(decision.Reason.Length > 200 ? decision.Reason[..200] : decision.Reason)));
            _log.LogInformation(NetworkEvents.DhcpNak, "DHCP: NAK to {Module}: {Reason}", slot?.Module, decision.Reason);
        }
        else
        {
            bool inform = decision.Action == DhcpAction.InformAck;
            type = decision.Action == DhcpAction.Offer ? DhcpMessageType.Offer : DhcpMessageType.Ack;
            r.ClientAddress = inform ? request.ClientAddress : IPAddress.Any;
            r.YourAddress = inform ? IPAddress.Any : slot!.Address;
            r.ServerAddress = boot;
            string? bootFile = slot is not null && _options.BootFiles.TryGetValue(slot.Module.ModuleType, out var bf) ? bf : null;
            r.BootFile = bootFile ?? "";
            if (request.MessageType != DhcpMessageType.None)
            {
                r.Options.Add(new(DhcpOption.MessageType, [(byte)type]));
                r.Options.Add(new(DhcpOption.ServerId, _options.ServerAddress.GetAddressBytes()));
            }

            if (!inform)
            {
                uint secs = (uint)Math.Min(uint.MaxValue, _options.LeaseTime.TotalSeconds);
                r.Options.Add(new(DhcpOption.LeaseTime, [(byte)(secs >> 24), (byte)(secs >> 16), (byte)(secs >> 8), (byte)secs]));
            }

            r.Options.Add(new(DhcpOption.SubnetMask, _options.SubnetMask.GetAddressBytes()));
            if (_options.Router is { } router)
            {
                r.Options.Add(new(DhcpOption.Router, router.GetAddressBytes()));
            }

            if (_options.DnsServers.Count > 0)
            {
                r.Options.Add(new(DhcpOption.DnsServers, _options.DnsServers.SelectMany(d => d.GetAddressBytes()).ToArray()));
            }

            if (slot is not null)
            {
                r.Options.Add(new(DhcpOption.HostName, Encoding.ASCII.GetBytes($"{slot.Module.ModuleType}-{slot.Module.Slot}")));
            }

            r.Options.Add(new(DhcpOption.TftpServer, Encoding.ASCII.GetBytes(boot.ToString())));
            if (bootFile is not null)
            {
                r.Options.Add(new(DhcpOption.BootFile, Encoding.ASCII.GetBytes(bootFile)));
            }

            if (type == DhcpMessageType.Ack && !inform)
            {
                Record(slot!, request, DhcpLeaseState.Bound, now + _options.LeaseTime);
            }

            _log.LogInformation(type == DhcpMessageType.Offer ? NetworkEvents.DhcpOffer : inform ? NetworkEvents.DhcpInform : NetworkEvents.DhcpAck,
                "DHCP: {Type} {Address} to {Module} ({Mac})", type, inform ? request.ClientAddress : slot!.Address, slot?.Module.ToString() ?? "?", request.Mac);
        }

        // RFC 2131 §4.1: to ciaddr when the client has one (and not for a NAK), else broadcast.
        destination = type != DhcpMessageType.Nak && !request.ClientAddress.Equals(IPAddress.Any)
            ? new IPEndPoint(request.ClientAddress, _options.ClientPort)
            : new IPEndPoint(IPAddress.Broadcast, _options.ClientPort);
        Interlocked.Increment(ref _answered);
        return r.Write(reply);
    }

    private void Record(ModuleSlot slot, DhcpPacket request, DhcpLeaseState state, DateTimeOffset expires)
    {
        var cid = request.Option(DhcpOption.ClientId);
        List<DhcpLease> snapshot;
        lock (_lock)
        {
            _leases[slot.Address] = new DhcpLease(slot.Address, slot.Module, state, expires, request.Mac, cid is null ? null : Convert.ToHexString(cid));
            snapshot = [.. _leases.Values];
        }

        if (_options.LeaseFile is { } file)
        {
            try
            {
                DhcpLeaseFile.Save(file, snapshot);
            }
            catch (IOException ex)
            {
                _log.LogError(NetworkEvents.DhcpAck, ex, "DHCP: could not write the lease file {File}", file);
            }
        }
    }

    private async Task LoopAsync(Socket socket, CancellationToken stop)
    {
        var buffer = new byte[1500];
        var reply = new byte[1024];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!stop.IsCancellationRequested)
        {
            int n;
            try
            {
                var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop).ConfigureAwait(false);
                n = r.ReceivedBytes;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            int len = Handle(buffer.AsSpan(0, n), reply, out var to);
            if (len > 0)
            {
                try
                {
                    await socket.SendToAsync(reply.AsMemory(0, len), SocketFlags.None, to!, stop).ConfigureAwait(false);
                }
                catch (SocketException ex)
                {
                    _log.LogWarning(NetworkEvents.DhcpIgnored, "DHCP: could not send to {Destination}: {Error}", to, ex.SocketErrorCode);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

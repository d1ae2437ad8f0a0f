using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Flash.Svm.Node;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Network.Bus;

/// <summary>Settings of a <see cref="NetworkModuleBus"/>.</summary>
public sealed class NetworkModuleBusOptions
{
    /// <summary>The SMP's control endpoint on the module network: modules send health reports here.</summary>
    public required IPEndPoint ControlEndpoint { get; init; }

    /// <summary>The module slots; reports are accepted only from a slot's own address and for that slot's module.</summary>
    public required ModulePlan Plan { get; init; }

    /// <summary>UDP port modules listen on for the init command.</summary>
    public int ModulePort { get; init; } = 7070;

    /// <summary>How long an init command waits for the module to acknowledge it (with a Starting report) per try.</summary>
    public TimeSpan InitAckTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Tries of an init command before the module counts as crashed.</summary>
    public int InitTries { get; init; } = 3;

    /// <summary>Logger.</summary>
    public ILogger? Logger { get; init; }
}

/// <summary>
/// The module bus of a node whose processor modules boot over the network: a module that booted (DHCP, TFTP) and
/// announced itself with a health report is a member; SVM's system-wide init command reaches it as an
/// <see cref="ModuleControlKind.Init"/> message, after which the module fetches its components by TFTP from the
/// context being booted and reports its health. Implements Flash.Svm's <see cref="IModuleBus"/>.
/// </summary>
public sealed class NetworkModuleBus : IModuleBus, IAsyncDisposable
{
    private readonly NetworkModuleBusOptions _options;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<Sgc.ModuleAddress, NetworkModule> _members = new();
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private Task? _loop;

    /// <summary>Creates the bus; call <see cref="Start"/> to listen.</summary>
    /// <param name="options">Settings.</param>
    public NetworkModuleBus(NetworkModuleBusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = options.Logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public IReadOnlyList<IProcessorModule> Modules => _members.Values.OrderBy(m => m.Address.ModuleType, StringComparer.Ordinal).ThenBy(m => m.Address.Slot).ToList<IProcessorModule>();

    /// <summary>The bound control endpoint.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_socket?.LocalEndPoint ?? throw new InvalidOperationException("The bus is not started."));

    internal NetworkModuleBusOptions Options => _options;

    internal ILogger Log => _log;

    /// <summary>Binds the control socket and starts receiving health reports.</summary>
    public void Start()
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            s.Bind(_options.ControlEndpoint);
        }
        catch
        {
            s.Dispose();
            throw;
        }

        _socket = s;
        _loop = Task.Run(() => LoopAsync(s, _stop.Token));
    }

    /// <summary>Waits until the given number of modules have announced themselves.</summary>
    /// <param name="count">Members wanted.</param>
    /// <param name="timeout">Longest wait.</param>
    /// <returns>True when they are there.</returns>
    public bool WaitForMembers(int count, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (_members.Count < count && DateTime.UtcNow < end)
        {
            Thread.Sleep(5);
        }

        return _members.Count >= count;
    }

    /// <summary>Stops the bus.</summary>
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

    internal void Send(ModuleSlot slot, byte[] datagram)
    {
        try
        {
            _socket!.SendTo(datagram, new IPEndPoint(slot.Address, _options.ModulePort));
        }
        catch (SocketException ex)
        {
            _log.LogWarning(NetworkEvents.ModuleInit, "Module bus: could not send to {Module} at {Address}: {Error}", slot.Module, slot.Address, ex.SocketErrorCode);
        }
    }

    private async Task LoopAsync(Socket socket, CancellationToken stop)
    {
        var buffer = new byte[1500];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }

            var from = (IPEndPoint)r.RemoteEndPoint;
            if (!ModuleControlMessage.TryParse(buffer.AsSpan(0, r.ReceivedBytes), out var m) || m!.Kind != ModuleControlKind.Health)
            {
                _log.LogDebug(NetworkEvents.MalformedPacket, "Module bus: dropped a malformed message from {Source}", from);
                continue;
            }

            var slot = _options.Plan.ByAddress(from.Address);
            if (slot is null || slot.Module != m.Module)
            {
                _log.LogWarning(NetworkEvents.ModuleHealth, "Module bus: report for {Module} from {Source}, which is not that module's slot address; ignored", m.Module, from);
                continue;
            }

            var member = _members.GetOrAdd(slot.Module, _ => new NetworkModule(this, slot));
            member.OnReport(m);
        }
    }
}

using System.Net;
using System.Net.Sockets;
using Flash.Svm.Network.Tftp;
using Flash.Svm.Node;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Bus;

/// <summary>
/// A simulated processor module on the module network, doing what a real module's firmware does: it announces itself
/// to the SMP, and on every init command fetches its components by TFTP, checks each against the digest in the command,
/// and reports healthy (or failed, or never healthy when told to misbehave). For tests, demos and benchmarks.
/// </summary>
public sealed class SimulatedNetworkModule : IAsyncDisposable
{
    private readonly IPAddress _address;
    private readonly IPEndPoint _control;
    private readonly IPEndPoint _tftp;
    private readonly int _port;
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private Task? _loop;
    private ModuleControlMessage _state;

    /// <summary>Creates the module.</summary>
    /// <param name="module">Type and slot.</param>
    /// <param name="address">Its own address (the slot's).</param>
    /// <param name="control">The SMP's control endpoint.</param>
    /// <param name="tftp">The SMP's TFTP endpoint.</param>
    /// <param name="port">Port to listen on for init commands.</param>
    public SimulatedNetworkModule(ModuleAddress module, IPAddress address, IPEndPoint control, IPEndPoint tftp, int port = 7070)
    {
        Module = module;
        _address = address;
        _control = control;
        _tftp = tftp;
        _port = port;
        _state = new ModuleControlMessage(ModuleControlKind.Health, 0, module, default, ModuleHealth.Down);
    }

    /// <summary>Type and slot.</summary>
    public ModuleAddress Module { get; }

    /// <summary>Chooses a fault per release (e.g. release 2 never becomes healthy on this module).</summary>
    public Func<SoftwareVersion, SimulatedFault>? FaultPredicate { get; set; }

    /// <summary>TFTP options the module's loader asks for.</summary>
    public TftpClientOptions? Tftp { get; init; }

    /// <summary>Creates the module's UDP sockets (e.g. inside its network namespace); null: plain IPv4 UDP sockets.</summary>
    public Func<Socket>? SocketFactory { get; init; }

    /// <summary>Init commands handled.</summary>
    public int InitCount { get; private set; }

    /// <summary>The release running (after a healthy init).</summary>
    public SoftwareVersion Release { get; private set; }

    /// <summary>Component files loaded at the last init, with their bytes verified.</summary>
    public IReadOnlyDictionary<string, long> Loaded { get; private set; } = new Dictionary<string, long>();

    /// <summary>Binds its port and announces itself to the SMP.</summary>
    public void Start()
    {
        var s = SocketFactory?.Invoke() ?? new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            s.Bind(new IPEndPoint(_address, _port));
        }
        catch
        {
            s.Dispose();
            throw;
        }

        _socket = s;
        Report();
        _loop = Task.Run(() => LoopAsync(s, _stop.Token));
    }

    /// <summary>Stops the module (a power-off).</summary>
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

    private void Report()
    {
        try
        {
            _socket?.SendTo(_state.ToBytes(), _control);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The SMP asks again with its next init; a report is best effort.
        }
    }

    private void SetState(uint seq, ModuleHealth health, SoftwareVersion release)
    {
        _state = new ModuleControlMessage(ModuleControlKind.Health, seq, Module, release, health);
        Report();
    }

    private async Task LoopAsync(Socket socket, CancellationToken stop)
    {
        var buffer = new byte[9000];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        Task? boot = null;
        CancellationTokenSource? bootStop = null;
        while (!stop.IsCancellationRequested)
        {
            SocketReceiveFromResult r;
            try
            {
                r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
                continue;
            }

            if (!ModuleControlMessage.TryParse(buffer.AsSpan(0, r.ReceivedBytes), out var m) || m!.Kind != ModuleControlKind.Init || m.Module != Module)
            {
                continue;
            }

            if (m.Sequence == _state.Sequence)
            {
                Report(); // a retransmitted command: repeat the answer
                continue;
            }

            // A new init command supersedes one in progress.
            if (bootStop is not null)
            {
                await bootStop.CancelAsync().ConfigureAwait(false);
            }

            if (boot is not null)
            {
                await boot.ConfigureAwait(false);
            }

            bootStop?.Dispose();
            bootStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
            InitCount++;
            SetState(m.Sequence, ModuleHealth.Starting, _state.Release);
            var token = bootStop.Token;
            boot = Task.Run(() => BootAsync(m, token), CancellationToken.None);
        }

        if (boot is not null)
        {
            bootStop!.Cancel();
            await boot.ConfigureAwait(false);
        }

        bootStop?.Dispose();
    }

    private async Task BootAsync(ModuleControlMessage init, CancellationToken stop)
    {
        var loaded = new Dictionary<string, long>(StringComparer.Ordinal);
        try
        {
            foreach (var c in init.Components!)
            {
                using var ms = new MemoryStream();
                var result = await TftpClient.FetchAsync(_tftp, c.Name, ms, new TftpClientOptions
                {
                    LocalAddress = _address,
                    BlockSize = Tftp?.BlockSize ?? 1468,
                    WindowSize = Tftp?.WindowSize ?? 8,
                    Timeout = Tftp?.Timeout ?? TimeSpan.FromMilliseconds(500),
                    SocketFactory = SocketFactory,
                }, stop).ConfigureAwait(false);
                if (!result.Ok || !NetworkModule.Verify(c, ms.GetBuffer().AsSpan(0, (int)ms.Length)))
                {
                    SetState(init.Sequence, ModuleHealth.Failed, _state.Release);
                    return;
                }

                loaded[c.Name] = ms.Length;
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Loaded = loaded;
        switch (FaultPredicate?.Invoke(init.Release) ?? SimulatedFault.None)
        {
            case SimulatedFault.CrashOnInit:
                SetState(init.Sequence, ModuleHealth.Failed, init.Release);
                break;
            case SimulatedFault.NeverHealthy:
                break;
            default:
                Release = init.Release;
                SetState(init.Sequence, ModuleHealth.Healthy, init.Release);
                break;
        }
    }
}

// ModuleSim: one processor module of a node as its own OS process (the module-side half of SmpNode). It takes its
// slot's DHCP lease on its interface (or is given --address), waits until someone has put that address on the
// interface (it configures nothing itself), announces itself on the SMP's module bus and then answers every init
// command: it fetches the listed components by TFTP, checks each against the digest in the command, and reports its
// health; it can be told to misbehave on a given release so that a trial boot rolls back. All of that is the library's
// SimulatedNetworkModule and DhcpClient; this file only wires them to a command line and logs what happens.
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Flash.Svm.Network.Bus;
using Flash.Svm.Network.Dhcp;
using Flash.Svm.Node;
using Microsoft.Extensions.Logging;

CommandLine? cl;
try
{
    cl = CommandLine.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine($"ModuleSim: {ex.Message}\n\n{CommandLine.Usage}");
    return 2;
}

if (cl is null)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(LogLevel.Information));
var log = logs.CreateLogger("ModuleSim");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
if (cl.RunSeconds is { } seconds)
{
    stop.CancelAfter(TimeSpan.FromSeconds(seconds));
}

var control = cl.Control;
IPAddress address;
IPAddress tftpServer = control.Address;
try
{
    if (cl.Address is { } fixedAddress)
    {
        address = fixedAddress;
    }
    else
    {
        var lease = await ModuleBoot.TakeLeaseAsync(cl, log, stop.Token);
        if (lease is null)
        {
            log.LogError(ModuleBoot.Failed, "{Module}: no DHCP lease on {Interface} (no server answered, or it refused)", cl.Module, cl.Interface);
            return 1;
        }

        address = lease.Address;
        tftpServer = lease.BootServer.Equals(IPAddress.Any) ? lease.Server : lease.BootServer;
        if (control.Address.Equals(IPAddress.Any))
        {
            control = new IPEndPoint(lease.Server, control.Port);
        }

        log.LogInformation(ModuleBoot.Lease, "{Module}: lease {Address} mask {Mask} from {Server}, boot server {BootServer}, boot file {BootFile}, {LeaseTime}",
            cl.Module, lease.Address, lease.SubnetMask, lease.Server, lease.BootServer, lease.BootFile, lease.LeaseTime);
        if (!await ModuleBoot.WaitForAddressAsync(cl.Interface!, address, cl.AddressWait, stop.Token))
        {
            log.LogError(ModuleBoot.Failed, "{Module}: {Address} did not appear on {Interface} within {Wait}", cl.Module, address, cl.Interface, cl.AddressWait);
            return 1;
        }
    }
}
catch (OperationCanceledException)
{
    log.LogInformation(ModuleBoot.Stopped, "{Module}: stopped before booting", cl.Module);
    return 0;
}
catch (SocketException ex)
{
    log.LogError(ModuleBoot.Failed, "{Module}: DHCP on {Interface} failed: {Error}", cl.Module, cl.Interface, ex.SocketErrorCode);
    return 1;
}

await using var module = new SimulatedNetworkModule(cl.Module, address, control, new IPEndPoint(tftpServer, cl.TftpPort), cl.ModulePort)
{
    FaultPredicate = r => cl.FailReleases.Contains(r) ? cl.Fault : SimulatedFault.None,
};
try
{
    module.Start();
}
catch (SocketException ex)
{
    log.LogError(ModuleBoot.Failed, "{Module}: cannot listen on {Address}:{Port}: {Error}", cl.Module, address, cl.ModulePort, ex.SocketErrorCode);
    return 1;
}

log.LogInformation(ModuleBoot.Announced, "{Module}: listening on {Address}:{Port}, announced to {Control}, TFTP from {Tftp}:{TftpPort}",
    cl.Module, address, cl.ModulePort, control, tftpServer, cl.TftpPort);
await ModuleBoot.FollowAsync(module, log, stop.Token);
log.LogInformation(ModuleBoot.Stopped, "{Module}: stopped after {Count} init commands, running release {Release}", cl.Module, module.InitCount, module.Release);
return 0;

/// <summary>The steps of a module's boot around the library types: lease, address, and following init commands.</summary>
internal static class ModuleBoot
{
    public static readonly EventId Lease = new(4190, "ModuleSimLease");
    public static readonly EventId Announced = new(4191, "ModuleSimAnnounced");
    public static readonly EventId Init = new(4192, "ModuleSimInit");
    public static readonly EventId Running = new(4193, "ModuleSimRunning");
    public static readonly EventId Stopped = new(4194, "ModuleSimStopped");
    public static readonly EventId Failed = new(4195, "ModuleSimFailed");

    /// <summary>DHCP from port 68 on the interface only (SO_BINDTODEVICE), as a boot ROM does before it has an address.</summary>
    public static async Task<DhcpClientLease?> TakeLeaseAsync(CommandLine cl, ILogger log, CancellationToken cancellationToken)
    {
        var mac = cl.Mac ?? NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == cl.Interface)?.GetPhysicalAddress()
            ?? throw new SocketException((int)SocketError.AddressNotAvailable);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { EnableBroadcast = true };
        socket.SetRawSocketOption(1, 25, Encoding.ASCII.GetBytes(cl.Interface + "\0")); // SOL_SOCKET, SO_BINDTODEVICE
        socket.Bind(new IPEndPoint(IPAddress.Any, cl.DhcpPort + 1));
        log.LogInformation(Lease, "{Module}: DHCP on {Interface} as {Mac}", cl.Module, cl.Interface, mac);
        return await DhcpClient.AcquireAsync(socket, mac, cl.VendorClass ?? "flash-" + cl.Module.ModuleType, cl.DhcpPort, TimeSpan.FromSeconds(1), 5, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Waits until the address is on the interface (bounded): binding to it before would fail.</summary>
    public static async Task<bool> WaitForAddressAsync(string interfaceName, IPAddress address, TimeSpan wait, CancellationToken cancellationToken)
    {
        var end = DateTime.UtcNow + wait;
        while (true)
        {
            var nic = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == interfaceName);
            if (nic is not null && nic.GetIPProperties().UnicastAddresses.Any(u => u.Address.Equals(address)))
            {
                return true;
            }

            if (DateTime.UtcNow >= end)
            {
                return false;
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Logs each init command the module handles and the release it runs afterwards, until stopped.</summary>
    public static async Task FollowAsync(SimulatedNetworkModule module, ILogger log, CancellationToken cancellationToken)
    {
        int inits = 0;
        var loaded = module.Loaded;
        var release = module.Release;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            if (module.InitCount != inits)
            {
                inits = module.InitCount;
                log.LogInformation(Init, "{Module}: init command {Count} received", module.Module, inits);
            }

            if (!ReferenceEquals(module.Loaded, loaded) || module.Release != release)
            {
                loaded = module.Loaded;
                release = module.Release;
                log.LogInformation(Running, "{Module}: components verified: {Components}; running release {Release}",
                    module.Module, string.Join(", ", loaded.Select(kv => $"{kv.Key} ({kv.Value} bytes)")), release);
            }
        }
    }
}

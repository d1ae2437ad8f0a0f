// SmpNode: the software management processor (SMP) of a node as a program. It keeps its two NVS devices as image
// files in --state (so everything survives restarts), installs release 1 on first start, and serves the node's
// processor modules over the network: DHCP (fixed address per slot, boot options), TFTP and FTP (components of the
// current context, streamed from flash and digest-checked), and the module bus (init command, health reports).
// With --simulate-modules it also runs a simulated module at every slot address and boots them; --upgrade then
// installs release 2 as a trial boot, which the modules load over TFTP before SVM commits it.
using System.Net;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Management.Grpc;
using Flash.Svm.Network;
using Flash.Svm.Network.Bus;
using Flash.Svm.Network.Components;
using Flash.Svm.Network.Dhcp;
using Flash.Svm.Network.Ftp;
using Flash.Svm.Network.Tftp;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Flash.Svm.Transfer;
using Microsoft.Extensions.Logging;

CommandLine? cl;
try
{
    cl = CommandLine.Parse(args);
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException or IndexOutOfRangeException)
{
    Console.Error.WriteLine($"SmpNode: {ex.Message}\n\n{CommandLine.Usage}");
    return 2;
}

if (cl is null)
{
    Console.WriteLine(CommandLine.Usage);
    return 0;
}

Directory.CreateDirectory(cl.State);
using var logs = LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(LogLevel.Information));
var log = logs.CreateLogger("SmpNode");
var geometry = new FlashGeometry(2048, 64, 64, 256); // 32 MiB SLC NAND per device
string Image(int i) => Path.Combine(cl.State, $"nvs{i}.img");
bool fresh = !File.Exists(Image(0)) || !File.Exists(Image(1));
FlashSimulator Device(int i) => fresh
    ? FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = (ulong)(i + 1) })
    : FlashSimulator.LoadImage(Image(i), new FlashSimulatorOptions { Geometry = geometry, Seed = (ulong)(i + 1) });
using var dev0 = Device(0);
using var dev1 = Device(1);
using var key = DemoRelease.Key(cl.State);
var source = new MemorySoftwareSource();
// Remote sources for COPY-RFILE and upgrades by URL (http, https, ftp, ftps, sftp; Flash.Svm.Transfer).
var (remoteSources, remoteOwner) = NetworkSoftwareSource.CreateAll(logger: logs.CreateLogger("transfer"));
using var remoteSourcesLifetime = remoteOwner;
source.Add("release-1.pkg", DemoRelease.Build(1, key));
source.Add("release-2.pkg", DemoRelease.Build(2, key));
// Packages streamed in by gNOI Install (--gnoi-port) reach SVM through this source.
var gnoiSource = new GnoiPackageSource();

var plan = new ModulePlan(cl.Slots);
await using var bus = new NetworkModuleBus(new NetworkModuleBusOptions
{
    ControlEndpoint = new IPEndPoint(cl.Address, cl.ControlPort),
    Plan = plan,
    ModulePort = cl.ModulePort,
    Logger = logs.CreateLogger("bus"),
});
bus.Start();
var svm = new SoftwareVersionManager(dev0, dev1, bus, new SvmOptions
{
    Packages = new PackageVerificationOptions { TrustedKeys = [key.ExportSubjectPublicKeyInfo()] },
    Sources = cl.Gnoi is null ? [source, .. remoteSources] : [source, .. remoteSources, gnoiSource],
    HealthTimeout = TimeSpan.FromSeconds(10),
    // --trial-fails N: the trial of release N is judged failed (demonstrates a rollback that stops a ring roll).
    TrialValidator = cl.TrialFails is { } bad ? r => r.Release.Major != bad : null,
    Logger = logs.CreateLogger("svm"),
});
if (fresh)
{
    log.LogInformation("Empty state: formatting nvs0/nvs1 and installing release 1");
    svm.FormatAndInstall(source.Fetch(new TransferParameters("mem", "release-1.pkg"), long.MaxValue, CancellationToken.None),
        [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "smp" })]);
    SaveImages();
}
else
{
    // Mounts and verifies storage (no module is on the bus yet, so no init command goes out).
    svm.Initialize();
}

var store = new SharedComponentStore(new PairComponentStore(() => svm.Storage));
await using var tftp = new TftpServer(store, new TftpServerOptions { Endpoint = new IPEndPoint(cl.Address, cl.TftpPort), Plan = plan, Logger = logs.CreateLogger("tftp") });
tftp.Start();
await using var ftp = new FtpServer(store, new FtpServerOptions
{
    Endpoint = new IPEndPoint(cl.Address, cl.FtpPort),
    Accounts = [new FtpAccount(cl.FtpUser.User, cl.FtpUser.Password)],
    AllowAnonymous = cl.AnonymousFtp,
    Plan = plan,
    Logger = logs.CreateLogger("ftp"),
});
ftp.Start();
DhcpServer? dhcp = null;
if (cl.DhcpInterface is { } ifname)
{
    dhcp = new DhcpServer(new DhcpServerOptions
    {
        ServerAddress = cl.Address,
        SubnetMask = cl.DhcpMask,
        InterfaceName = ifname,
        Port = cl.DhcpPort,
        Plan = plan,
        BootFiles = new Dictionary<string, string> { ["traffic"] = "boot.bin", ["xconnect"] = "boot.bin" },
        LeaseFile = Path.Combine(cl.State, "dhcp-leases.bin"),
        Logger = logs.CreateLogger("dhcp"),
    });
    dhcp.Start();
}

var management = await Management.StartAsync(cl, svm, bus, gnoiSource, logs, SaveImages);
if (management?.Agent is { } agent)
{
    Console.WriteLine($"SmpNode: TL1 agent {cl.Sid} on {agent.LocalEndPoint}; upgrade {management.Machine.Status.State}");
}

if (management?.Gnoi is { } gnoi)
{
    Console.WriteLine($"SmpNode: gNOI OS service on {gnoi.Address} (TLS, client certificates required); upgrade {management.Machine.Status.State}");
}

Console.WriteLine($"SmpNode: release {svm.CurrentSgc().Release} current; TFTP {tftp.LocalEndPoint}, FTP {ftp.LocalEndPoint} (user {cl.FtpUser.User}), " +
    $"module bus {bus.LocalEndPoint}{(dhcp is null ? "" : $", DHCP on {cl.DhcpInterface}")}; {plan.Slots.Count} slots: " +
    string.Join(", ", plan.Slots.Select(s => $"{s.Module}={s.Address}")));

var simulated = new List<SimulatedNetworkModule>();
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
bool ok = true;
if (cl.SimulateModules)
{
    foreach (var slot in plan.Slots)
    {
        var m = new SimulatedNetworkModule(slot.Module, slot.Address, bus.LocalEndPoint, tftp.LocalEndPoint, cl.ModulePort);
        m.Start();
        simulated.Add(m);
    }

    bus.WaitForMembers(plan.Slots.Count, TimeSpan.FromSeconds(10));
    ok &= Boot("system-wide init command: modules load their components over TFTP");
    if (cl.Upgrade && svm.CurrentSgc().Release.Major == 1)
    {
        // The upgrade command the management layer runs (TL1 COPY-RFILE, gNOI): asynchronous, whatever the source.
        var up = await svm.UpgradeAsync(new UpgradeCommand(new TransferParameters("mem", "release-2.pkg")));
        Console.WriteLine($"SmpNode: release 2 stored in the alternate context; affected modules {string.Join(", ", up.AffectedModules)}");
        ok &= Boot("trial boot of release 2 over the network");
    }

    SaveImages();
}

// --run-seconds counts from here: the simulated boot above (which an init may not be cancelled in the middle of by a
// timer) always runs to its end, then the node serves for that long.
if (cl.RunSeconds is { } secs)
{
    stop.CancelAfter(TimeSpan.FromSeconds(secs));
}

// Modules that announce themselves later (real ones after DHCP) get the init command when they appear.
int members = bus.Modules.Count;
while (!stop.IsCancellationRequested)
{
    try
    {
        await Task.Delay(1000, stop.Token);
    }
    catch (OperationCanceledException)
    {
        break;
    }

    if (bus.Modules.Count != members)
    {
        members = bus.Modules.Count;
        Boot($"{members} module(s) on the bus: init command for the new ones");
    }
}

foreach (var m in simulated)
{
    await m.DisposeAsync();
}

if (dhcp is not null)
{
    await dhcp.DisposeAsync();
}

if (management is not null)
{
    await management.DisposeAsync();
}

var release = svm.CurrentSgc().Release;
svm.Dispose();
SaveImages();
Console.WriteLine(ok
    ? $"SmpNode: OK - release {release}, {tftp.Statistics.Completed} TFTP transfer(s), {ftp.FilesSent} FTP file(s) served; state saved in {cl.State}"
    : "SmpNode: FAILED - a module did not boot (see above)");
return ok ? 0 : 1;

bool Boot(string what)
{
    Console.WriteLine($"SmpNode: {what}");
    var r = svm.Initialize(stop.Token);
    Console.WriteLine($"SmpNode: release {r.Release}, trial {r.Trial}, initialised [{string.Join(", ", r.InitialisedModules)}], failed [{string.Join(", ", r.FailedModules)}]");
    foreach (var m in bus.Modules.OfType<NetworkModule>())
    {
        var fpga = m.ProgrammableDevices().Select(d => $"{d.Name}={d.Image} {d.ImageVersion}");
        Console.WriteLine($"         {m.Address,-11} {m.ReportHealth(),-8} release {m.ReportedRelease} {string.Join(" ", fpga)}");
    }

    return r.FailedModules.Count == 0;
}

void SaveImages()
{
    dev0.SaveImage(Image(0));
    dev1.SaveImage(Image(1));
}

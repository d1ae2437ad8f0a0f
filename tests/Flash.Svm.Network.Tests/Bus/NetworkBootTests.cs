#pragma warning disable xUnit1051 // SVM calls are synchronous.
using System.Net;
using System.Net.Sockets;
using Flash.Svm.Network.Bus;
using Flash.Svm.Network.Tftp;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Tests.Bus;

/// <summary>Modules booting over the network: init command on the bus, components by TFTP, health reports, trial boot commit and rollback.</summary>
public sealed class NetworkBootTests : IAsyncLifetime
{
    private NetworkModuleBus _bus = null!;
    private NetworkNode _node = null!;
    private TftpServer _tftp = null!;
    private readonly List<SimulatedNetworkModule> _modules = [];

    public async ValueTask InitializeAsync()
    {
        int port = FreePort();
        _bus = new NetworkModuleBus(new NetworkModuleBusOptions
        {
            ControlEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Plan = NetworkNode.LoopbackPlan,
            ModulePort = port,
        });
        _bus.Start();
        _node = new NetworkNode(_bus, o => new Svm.SvmOptions
        {
            Packages = o.Packages,
            Sources = o.Sources,
            HealthTimeout = TimeSpan.FromSeconds(3),
        });
        _tftp = new TftpServer(_node.Store, new TftpServerOptions { Endpoint = new IPEndPoint(IPAddress.Loopback, 0), Plan = NetworkNode.LoopbackPlan });
        _tftp.Start();
        foreach (var slot in NetworkNode.LoopbackPlan.Slots)
        {
            var m = new SimulatedNetworkModule(slot.Module, slot.Address, _bus.LocalEndPoint, _tftp.LocalEndPoint, port);
            m.Start();
            _modules.Add(m);
        }

        Assert.True(_bus.WaitForMembers(3, TimeSpan.FromSeconds(5)), "the modules did not announce themselves");
        await Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var m in _modules)
        {
            await m.DisposeAsync();
        }

        await _tftp.DisposeAsync();
        await _bus.DisposeAsync();
        _node.Dispose();
    }

    private SimulatedNetworkModule Module(ModuleAddress a) => _modules.Single(m => m.Module == a);

    private static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    [Fact]
    public void Modules_boot_release_1_then_trial_boot_release_2_and_commit()
    {
        var boot = _node.Svm.Initialize();
        Assert.Empty(boot.FailedModules);
        Assert.Equal(3, boot.InitialisedModules.Count);
        Assert.All(_modules, m => Assert.Equal(new SoftwareVersion(1, 0, 0), m.Release));
        Assert.Equal(150_001, Module(NetworkNode.Traffic1).Loaded["traffic-app.bin"]);
        Assert.Contains("empty.cfg", Module(NetworkNode.Traffic1).Loaded.Keys);
        Assert.DoesNotContain("empty.cfg", Module(NetworkNode.Traffic2).Loaded.Keys);
        Assert.Equal(50_000, Module(NetworkNode.Xc).Loaded["xc-app.bin"]);
        var fpga = Assert.Single(_bus.Modules.Single(m => m.Address == NetworkNode.Traffic1).ProgrammableDevices());
        Assert.Equal("traffic-fpga.bit", fpga.Image);

        var up = _node.Svm.Upgrade(new UpgradeCommand(new TransferParameters("mem", "r2.pkg")));
        Assert.Equal([NetworkNode.Traffic1, NetworkNode.Traffic2], up.AffectedModules.OrderBy(m => m.Slot));
        var trial = _node.Svm.Initialize();
        Assert.Equal(TrialOutcome.Committed, trial.Trial);
        Assert.Equal(new SoftwareVersion(2, 0, 0), trial.Release);
        Assert.Equal(new SoftwareVersion(2, 0, 0), Module(NetworkNode.Traffic1).Release);
        Assert.Equal(new SoftwareVersion(2, 0, 0), Module(NetworkNode.Traffic2).Release);
        Assert.Equal(1, Module(NetworkNode.Xc).InitCount); // partial upgrade: only the affected modules re-initialise
        Assert.Equal(2, Module(NetworkNode.Traffic1).InitCount);
        // Release 1: traffic@1 and traffic@2 fetch 4 files each, xconnect@5 two; the trial: the traffic modules again.
        Assert.Equal(18, _tftp.Statistics.Completed);
        Assert.Equal(0, _tftp.Statistics.Aborted);
    }

    [Fact]
    public void A_module_that_never_becomes_healthy_on_release_2_rolls_the_trial_back()
    {
        _node.Svm.Initialize();
        Module(NetworkNode.Traffic2).FaultPredicate = r => r.Major == 2 ? SimulatedFault.NeverHealthy : SimulatedFault.None;
        _node.Svm.Upgrade(new UpgradeCommand(new TransferParameters("mem", "r2.pkg")));
        var trial = _node.Svm.Initialize();
        Assert.Equal(TrialOutcome.RolledBack, trial.Trial);
        Assert.Equal(new SoftwareVersion(1, 0, 0), trial.Release);
        Assert.All(_modules, m => Assert.Equal(new SoftwareVersion(1, 0, 0), m.Release));
        Assert.All(_bus.Modules, m => Assert.Equal(ModuleHealth.Healthy, m.ReportHealth()));
    }
}

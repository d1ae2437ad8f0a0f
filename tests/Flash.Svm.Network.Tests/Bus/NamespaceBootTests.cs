#pragma warning disable xUnit1051 // SVM calls are synchronous.
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Flash.Svm.Network.Bus;
using Flash.Svm.Network.Dhcp;
using Flash.Svm.Network.Tftp;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Tests.Bus;

/// <summary>
/// A simulated module in its own network namespace boots the whole way: DHCP lease on a veth pair, components by TFTP
/// from the SMP's address, health reports on the bus; then a trial boot that commits, or one that rolls back.
/// </summary>
public sealed class NamespaceBootTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(41, false)]
    [InlineData(42, true)]
    public async Task A_module_takes_a_lease_boots_over_tftp_and_follows_a_trial_boot(int subnet, bool failRelease2)
    {
        await using var ns = await NetNs.CreateAsync(subnet);
        var smp = IPAddress.Parse(ns.HostAddress);
        var moduleAddress = IPAddress.Parse($"10.77.{subnet}.11");
        var plan = new ModulePlan([new ModuleSlot(NetworkNode.Traffic1, moduleAddress, PhysicalAddress.Parse(ns.Mac))]);
        await using var bus = new NetworkModuleBus(new NetworkModuleBusOptions { ControlEndpoint = new IPEndPoint(smp, 0), Plan = plan, ModulePort = 7070 });
        bus.Start();
        using var node = new NetworkNode(bus, o => new Svm.SvmOptions { Packages = o.Packages, Sources = o.Sources, HealthTimeout = TimeSpan.FromSeconds(5) });
        await using var tftp = new TftpServer(node.Store, new TftpServerOptions { Endpoint = new IPEndPoint(smp, 0), Plan = plan });
        tftp.Start();
        await using var dhcp = TrafficDhcp.Start(ns, plan);

        // The module's boot loader: DHCP on its interface, then its IP stack takes the address.
        using var dhcpSocket = ns.UdpSocket();
        dhcpSocket.EnableBroadcast = true;
        dhcpSocket.SetRawSocketOption(1, 25, Encoding.ASCII.GetBytes(ns.ClientInterface + "\0")); // SO_BINDTODEVICE
        dhcpSocket.Bind(new IPEndPoint(IPAddress.Any, 68));
        var lease = await DhcpClient.AcquireAsync(dhcpSocket, PhysicalAddress.Parse(ns.Mac), "flash-traffic", cancellationToken: Ct);
        Assert.NotNull(lease);
        Assert.Equal(moduleAddress, lease.Address);
        Assert.Equal(smp, lease.BootServer);
        Assert.Equal("boot.bin", lease.BootFile);
        var (exit, output) = await ns.ExecAsync(Limit, "/usr/sbin/ip", "addr", "add", $"{lease.Address}/24", "dev", ns.ClientInterface);
        Assert.True(exit == 0, output);

        await using var module = new SimulatedNetworkModule(NetworkNode.Traffic1, lease.Address, bus.LocalEndPoint, new IPEndPoint(lease.BootServer, tftp.LocalEndPoint.Port), 7070)
        {
            SocketFactory = ns.UdpSocket,
            FaultPredicate = r => failRelease2 && r.Major == 2 ? SimulatedFault.NeverHealthy : SimulatedFault.None,
        };
        module.Start();
        Assert.True(bus.WaitForMembers(1, TimeSpan.FromSeconds(5)), "the module did not announce itself on the bus");

        var boot = node.Svm.Initialize();
        Assert.Empty(boot.FailedModules);
        Assert.Equal(new SoftwareVersion(1, 0, 0), module.Release);
        Assert.Contains(lease.BootFile, module.Loaded.Keys);
        Assert.Equal(150_001, module.Loaded["traffic-app.bin"]);

        node.Svm.Upgrade(new UpgradeCommand(new TransferParameters("mem", "r2.pkg")));
        var trial = node.Svm.Initialize();
        var expected = failRelease2 ? new SoftwareVersion(1, 0, 0) : new SoftwareVersion(2, 0, 0);
        Assert.Equal(failRelease2 ? TrialOutcome.RolledBack : TrialOutcome.Committed, trial.Trial);
        Assert.Equal(expected, trial.Release);
        Assert.Equal(expected, module.Release);
        Assert.Equal(ModuleHealth.Healthy, Assert.Single(bus.Modules).ReportHealth());
        Assert.Equal(0, tftp.Statistics.Aborted);
    }
}

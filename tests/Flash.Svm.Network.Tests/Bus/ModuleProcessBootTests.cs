#pragma warning disable xUnit1051 // SVM calls are synchronous.
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Flash.Svm.Network.Bus;
using Flash.Svm.Network.Tftp;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Tests.Bus;

/// <summary>
/// The SMP runs in the test process and the module is a separate OS process (samples/ModuleSim): in its own network
/// namespace it takes its lease by DHCP, the test puts the address on its interface, and it boots over TFTP; on
/// loopback it is given its address. Either way it follows a trial boot of release 2 that commits, and one that rolls
/// back because the module was told to fail release 2.
/// </summary>
public sealed class ModuleProcessBootTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_module_process_in_a_namespace_takes_a_lease_boots_over_tftp_and_follows_a_trial_boot(bool failRelease2)
    {
        // A subnet no interface of this host uses now, so that a second run at once does not route the same one.
        int subnet = FreeAddresses.TestSubnet();
        await using var ns = await NetNs.CreateAsync(subnet);
        var smp = IPAddress.Parse(ns.HostAddress);
        var moduleAddress = IPAddress.Parse($"10.77.{subnet}.11");
        var plan = new ModulePlan([new ModuleSlot(NetworkNode.Traffic1, moduleAddress, PhysicalAddress.Parse(ns.Mac))]);
        // The module's bus port is inside its own namespace: no other run can hold it.
        await using var smpSide = SmpSide.Start(smp, plan, modulePort: 7070);
        await using var dhcp = TrafficDhcp.Start(ns, plan);

        await using var module = ModuleProcess.StartIn(ns, smpSide.Arguments(["--interface", ns.ClientInterface, "--vendor-class", "flash-traffic"], failRelease2));
        var lease = await module.WaitForAsync($"lease {moduleAddress} ", Limit);
        Assert.Contains($"boot server {smp}, boot file boot.bin", lease, StringComparison.Ordinal);

        // The module configures nothing itself: its address is put on its interface from outside, as its IP stack would.
        var (exit, output) = await ns.ExecAsync(Limit, "/usr/sbin/ip", "addr", "add", $"{moduleAddress}/24", "dev", ns.ClientInterface);
        Assert.True(exit == 0, output);
        await smpSide.FollowTrialsAsync(module, failRelease2);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_module_process_on_loopback_boots_over_tftp_and_follows_a_trial_boot(bool failRelease2)
    {
        // An address and port of this run's own: fixed ones collide when two test runs run at once.
        var module = FreeAddresses.LoopbackUdp();
        var plan = new ModulePlan([new ModuleSlot(NetworkNode.Traffic1, module.Address)]);
        await using var smpSide = SmpSide.Start(IPAddress.Loopback, plan, module.Port);
        await using var process = ModuleProcess.Start(smpSide.Arguments(["--address", module.Address.ToString()], failRelease2));
        await smpSide.FollowTrialsAsync(process, failRelease2);
    }

    /// <summary>The SMP half in the test process: flash pair with release 1, module bus and TFTP server.</summary>
    private sealed class SmpSide : IAsyncDisposable
    {
        private SmpSide(NetworkModuleBus bus, NetworkNode node, TftpServer tftp, int modulePort)
        {
            Bus = bus;
            Node = node;
            Tftp = tftp;
            ModulePort = modulePort;
        }

        public NetworkModuleBus Bus { get; }

        public NetworkNode Node { get; }

        public TftpServer Tftp { get; }

        /// <summary>The UDP port the module listens on for the bus.</summary>
        public int ModulePort { get; }

        public static SmpSide Start(IPAddress smp, ModulePlan plan, int modulePort)
        {
            var bus = new NetworkModuleBus(new NetworkModuleBusOptions { ControlEndpoint = new IPEndPoint(smp, 0), Plan = plan, ModulePort = modulePort });
            bus.Start();

            // A separate process on two busy cores: give its TFTP fetches room before SVM calls it unhealthy.
            var node = new NetworkNode(bus, o => new Svm.SvmOptions { Packages = o.Packages, Sources = o.Sources, HealthTimeout = TimeSpan.FromSeconds(8) });
            var tftp = new TftpServer(node.Store, new TftpServerOptions { Endpoint = new IPEndPoint(smp, 0), Plan = plan });
            tftp.Start();
            return new SmpSide(bus, node, tftp, modulePort);
        }

        /// <summary>ModuleSim's command line for traffic@1 against this SMP.</summary>
        public string[] Arguments(string[] addressing, bool failRelease2) =>
        [
            "--module", "traffic@1",
            "--control", Bus.LocalEndPoint.ToString(),
            "--tftp-port", Tftp.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture),
            "--module-port", ModulePort.ToString(CultureInfo.InvariantCulture),
            "--run-seconds", "120",
            .. addressing,
            .. failRelease2 ? ["--fail-release", "2.0.0"] : Array.Empty<string>(),
        ];

        /// <summary>Boots release 1, then trial-boots release 2: committed, or rolled back when the module fails it.</summary>
        public async Task FollowTrialsAsync(ModuleProcess module, bool failRelease2)
        {
            Assert.True(Bus.WaitForMembers(1, Limit), $"the module did not announce itself on the bus:\n{module.Output}");

            var boot = Node.Svm.Initialize();
            Assert.Empty(boot.FailedModules);
            var member = Assert.IsType<NetworkModule>(Assert.Single(Bus.Modules));
            Assert.Equal(new SoftwareVersion(1, 0, 0), member.ReportedRelease);
            var verified = await module.WaitForAsync("running release 1.0.0", Limit);
            Assert.Contains("traffic-app.bin (150001 bytes)", verified, StringComparison.Ordinal);
            Assert.Contains("boot.bin (20000 bytes)", verified, StringComparison.Ordinal);

            Node.Svm.Upgrade(new UpgradeCommand(new TransferParameters("mem", "r2.pkg")));
            var trial = Node.Svm.Initialize();
            var expected = failRelease2 ? new SoftwareVersion(1, 0, 0) : new SoftwareVersion(2, 0, 0);
            Assert.True((failRelease2 ? TrialOutcome.RolledBack : TrialOutcome.Committed) == trial.Trial, $"trial {trial.Trial}:\n{module.Output}");
            Assert.Equal(expected, trial.Release);
            Assert.Equal(expected, member.ReportedRelease);
            Assert.Equal(ModuleHealth.Healthy, member.ReportHealth());
            if (!failRelease2)
            {
                await module.WaitForAsync("running release 2.0.0", Limit);
            }

            await module.WaitForAsync(failRelease2 ? "init command 3 received" : "init command 2 received", Limit);
            Assert.False(module.HasExited, module.Output);
            Assert.Equal(0, Tftp.Statistics.Aborted);
        }

        public async ValueTask DisposeAsync()
        {
            await Tftp.DisposeAsync();
            Node.Dispose();
            await Bus.DisposeAsync();
        }
    }
}

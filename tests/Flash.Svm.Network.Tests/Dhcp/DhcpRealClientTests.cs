using System.Net;
using System.Net.NetworkInformation;
using Flash.Svm.Network.Dhcp;

namespace Flash.Svm.Network.Tests.Dhcp;

/// <summary>busybox udhcpc and ISC dhclient in a network namespace on a veth pair get their slot's lease and boot options.</summary>
public sealed class DhcpRealClientTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DhcpServerOptions Options(NetNs ns, int subnet, string? leaseFile = null) => new()
    {
        ServerAddress = IPAddress.Parse(ns.HostAddress),
        SubnetMask = IPAddress.Parse("255.255.255.0"),
        InterfaceName = ns.HostInterface,
        Router = IPAddress.Parse(ns.HostAddress),
        DnsServers = [IPAddress.Parse(ns.HostAddress)],
        Plan = new ModulePlan([new ModuleSlot(NetworkNode.Traffic1, IPAddress.Parse($"10.77.{subnet}.11"), PhysicalAddress.Parse(ns.Mac))]),
        BootFiles = new Dictionary<string, string> { ["traffic"] = "boot.bin" },
        LeaseTime = TimeSpan.FromMinutes(30),
        LeaseFile = leaseFile,
    };

    private static Dictionary<string, string> ReadEnv(string file) =>
        File.Exists(file)
            ? File.ReadAllLines(file).Where(l => l.Contains('=', StringComparison.Ordinal)).Select(l => l.Split('=', 2)).GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1].Trim('\''))
            : [];

    [Fact]
    public async Task Udhcpc_gets_the_slot_address_and_boot_options_and_releases_it()
    {
        var busybox = ExternalTools.Require("busybox");
        await using var ns = await NetNs.CreateAsync(31);
        var dir = Tools.TempDir();
        try
        {
            var leases = Path.Combine(dir, "leases.bin");
            await using (var server = new DhcpServer(Options(ns, 31, leases)))
            {
                server.Start();
                string env = Path.Combine(dir, "env");
                string script = Path.Combine(dir, "udhcpc.sh");
                await File.WriteAllTextAsync(script, $"#!/bin/sh\nif [ \"$1\" = bound ]; then env > {env}; ip addr add $ip/24 dev $interface; fi\nexit 0\n", Ct);
                Tools.MakeExecutable(script);
                // Without -q udhcpc stays bound; SIGUSR2 makes it release (busybox's -q exits before it counts as bound).
                using var udhcpc = Tools.Start("/usr/sbin/ip", ["netns", "exec", ns.Name, busybox, "udhcpc", "-i", ns.ClientInterface, "-f", "-v", "-t", "4", "-T", "1", "-A", "1",
                    "-s", script, "-O", "tftp", "-O", "bootfile", "-O", "hostname"]);
                try
                {
                    for (int i = 0; i < 150 && !File.Exists(env); i++)
                    {
                        await Task.Delay(100, Ct);
                    }

                    await Task.Delay(100, Ct);
                    Assert.True(File.Exists(env), "udhcpc did not get a lease within 15 s");
                    await ExternalTools.RunAsync("/bin/kill", ["-USR2", udhcpc.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], Limit);
                    for (int i = 0; i < 100 && (server.Leases.Count == 0 || server.Leases[0].State != DhcpLeaseState.Released); i++)
                    {
                        await Task.Delay(50, Ct);
                    }
                }
                finally
                {
                    udhcpc.Kill();
                    await udhcpc.WaitForExitAsync(Ct);
                }

                var e = ReadEnv(env);
                Assert.Equal("10.77.31.11", e.GetValueOrDefault("ip"));
                Assert.Equal("255.255.255.0", e.GetValueOrDefault("subnet"));
                Assert.Equal("10.77.31.1", e.GetValueOrDefault("router"));
                Assert.Equal("10.77.31.1", e.GetValueOrDefault("dns"));
                Assert.Equal("10.77.31.1", e.GetValueOrDefault("serverid"));
                Assert.Equal("1800", e.GetValueOrDefault("lease"));
                Assert.Equal("traffic-1", e.GetValueOrDefault("hostname"));
                Assert.Equal("10.77.31.1", e.GetValueOrDefault("siaddr"));
                Assert.Equal("boot.bin", e.GetValueOrDefault("boot_file"));
                Assert.Equal("10.77.31.1", e.GetValueOrDefault("tftp"));
                Assert.Equal("boot.bin", e.GetValueOrDefault("bootfile"));

                Assert.Equal(DhcpLeaseState.Released, Assert.Single(server.Leases).State);
            }

            // The lease file survives a restart of the server.
            await using var again = new DhcpServer(Options(ns, 31, leases));
            var kept = Assert.Single(again.Leases);
            Assert.Equal(NetworkNode.Traffic1, kept.Module);
            Assert.Equal(PhysicalAddress.Parse(ns.Mac), kept.Mac);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Dhclient_gets_the_slot_address_and_releases_it()
    {
        var dhclient = ExternalTools.Require("dhclient");
        await using var ns = await NetNs.CreateAsync(32);
        var dir = Tools.TempDir();
        try
        {
            await using var server = new DhcpServer(Options(ns, 32));
            server.Start();
            string env = Path.Combine(dir, "env");
            string script = Path.Combine(dir, "dhclient.sh");
            string conf = Path.Combine(dir, "dhclient.conf");
            await File.WriteAllTextAsync(script, $"#!/bin/sh\ncase \"$reason\" in BOUND|REBOOT) env > {env}; ip addr add $new_ip_address/24 dev $interface;; esac\nexit 0\n", Ct);
            Tools.MakeExecutable(script);
            await File.WriteAllTextAsync(conf, "timeout 15;\nretry 1;\nrequest subnet-mask, routers, domain-name-servers, host-name, tftp-server-name, bootfile-name;\n", Ct);
            string[] common = ["-cf", conf, "-sf", script, "-lf", Path.Combine(dir, "dhclient.leases"), "-pf", Path.Combine(dir, "dhclient.pid"), ns.ClientInterface];
            var (exit, output) = await ns.ExecAsync(Limit, dhclient, ["-1", "-v", .. common]);
            Assert.True(exit == 0, output);
            var e = ReadEnv(env);
            Assert.Equal("10.77.32.11", e.GetValueOrDefault("new_ip_address"));
            Assert.Equal("255.255.255.0", e.GetValueOrDefault("new_subnet_mask"));
            Assert.Equal("10.77.32.1", e.GetValueOrDefault("new_routers"));
            Assert.Equal("traffic-1", e.GetValueOrDefault("new_host_name"));
            Assert.Equal("boot.bin", e.GetValueOrDefault("new_bootfile_name"));
            Assert.Equal("10.77.32.1", e.GetValueOrDefault("new_tftp_server_name"));
            Assert.Equal("boot.bin", e.GetValueOrDefault("new_filename"));
            Assert.Equal(DhcpLeaseState.Bound, Assert.Single(server.Leases).State);

            // dhclient -r releases the lease and stops the running client.
            var (rexit, routput) = await ns.ExecAsync(Limit, dhclient, ["-r", "-v", .. common]);
            Assert.True(rexit == 0, routput);
            for (int i = 0; i < 100 && server.Leases[0].State != DhcpLeaseState.Released; i++)
            {
                await Task.Delay(20, Ct);
            }

            Assert.Equal(DhcpLeaseState.Released, server.Leases[0].State);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_client_on_another_interface_gets_no_answer()
    {
        var busybox = ExternalTools.Require("busybox");
        await using var served = await NetNs.CreateAsync(33);
        await using var other = await NetNs.CreateAsync(34);
        await using var server = new DhcpServer(Options(served, 33) is var o ? new DhcpServerOptions
        {
            ServerAddress = o.ServerAddress,
            SubnetMask = o.SubnetMask,
            InterfaceName = o.InterfaceName,
            // The other namespace's MAC is a known module too: only the interface keeps it from being answered.
            Plan = new ModulePlan([new ModuleSlot(NetworkNode.Traffic2, IPAddress.Parse("10.77.33.12"), PhysicalAddress.Parse(other.Mac))]),
        } : null!);
        server.Start();
        var (exit, output) = await other.ExecAsync(Limit, busybox, "udhcpc", "-i", other.ClientInterface, "-n", "-q", "-f", "-t", "2", "-T", "1", "-A", "1", "-s", "/bin/true");
        Assert.True(exit != 0, output);
        Assert.Equal(0, server.Counters.Answered);
    }
}

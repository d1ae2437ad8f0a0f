using System.Net;
using Flash.Svm.Network.Dhcp;

namespace Flash.Svm.Network.Tests;

/// <summary>The SMP's DHCP server on the host end of a namespace's veth pair, for traffic modules booting boot.bin.</summary>
internal static class TrafficDhcp
{
    /// <summary>Starts it (the caller disposes it): vendor class <c>flash-traffic</c> selects the traffic boot file.</summary>
    public static DhcpServer Start(NetNs ns, ModulePlan plan)
    {
        var dhcp = new DhcpServer(new DhcpServerOptions
        {
            ServerAddress = IPAddress.Parse(ns.HostAddress),
            SubnetMask = IPAddress.Parse("255.255.255.0"),
            InterfaceName = ns.HostInterface,
            Plan = plan,
            BootFiles = new Dictionary<string, string> { ["traffic"] = "boot.bin" },
            VendorClasses = new Dictionary<string, string> { ["flash-traffic"] = "traffic" },
        });
        dhcp.Start();
        return dhcp;
    }
}

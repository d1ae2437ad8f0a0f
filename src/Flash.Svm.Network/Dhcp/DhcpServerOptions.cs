using System.Net;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Network.Dhcp;

/// <summary>Settings of a <see cref="DhcpServer"/>.</summary>
public sealed class DhcpServerOptions
{
    /// <summary>The server's own address on the module network (option 54, and <c>siaddr</c>/option 66 unless <see cref="BootServer"/> is set).</summary>
    public required IPAddress ServerAddress { get; init; }

    /// <summary>The module subnet's mask (option 1); requests from other subnets are not answered.</summary>
    public required IPAddress SubnetMask { get; init; }

    /// <summary>
    /// The interface of the module network (Linux name, e.g. <c>eth1</c>): the socket is bound to it (SO_BINDTODEVICE,
    /// needs root) so nothing is answered on other interfaces and broadcasts leave through it. Null: any interface,
    /// filtered by subnet only.
    /// </summary>
    public string? InterfaceName { get; init; }

    /// <summary>The port to listen on (67; tests may use others).</summary>
    public int Port { get; init; } = 67;

    /// <summary>The port replies go to (68).</summary>
    public int ClientPort { get; init; } = 68;

    /// <summary>The module slots with their fixed addresses.</summary>
    public required ModulePlan Plan { get; init; }

    /// <summary>Router (option 3), if any.</summary>
    public IPAddress? Router { get; init; }

    /// <summary>Name servers (option 6).</summary>
    public IReadOnlyList<IPAddress> DnsServers { get; init; } = [];

    /// <summary>The TFTP server modules boot from (<c>siaddr</c> and option 66); defaults to <see cref="ServerAddress"/>.</summary>
    public IPAddress? BootServer { get; init; }

    /// <summary>Boot file per module type (option 67 and the BOOTP <c>file</c> field), e.g. <c>traffic → boot.bin</c>.</summary>
    public IReadOnlyDictionary<string, string> BootFiles { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// Vendor classes (option 60) and the module type each stands for: a client whose vendor class names another type
    /// than its slot's module is not answered (a card of the wrong type in the slot).
    /// </summary>
    public IReadOnlyDictionary<string, string> VendorClasses { get; init; } = new Dictionary<string, string>();

    /// <summary>Lease time (option 51).</summary>
    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long a declined address is held back.</summary>
    public TimeSpan DeclineHold { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The lease file (kept across restarts); null keeps leases in memory only.</summary>
    public string? LeaseFile { get; init; }

    /// <summary>The clock (tests move it).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Logger.</summary>
    public ILogger? Logger { get; init; }
}

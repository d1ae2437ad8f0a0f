using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Flash.Svm.Node;
using Flash.Svm.Sgc;

/// <summary>ModuleSim's command line.</summary>
internal sealed class CommandLine
{
    public const string Usage = """
        ModuleSim: one simulated processor module as its own process, booting from an SMP (SmpNode) over the network.

          --module TYPE@SLOT          its module type and slot (required), e.g. traffic@1
          --control IP:PORT           the SMP's module bus control endpoint (required; with DHCP the IP may be 0.0.0.0:
                                      the lease's server address is used)
          --tftp-port N               the SMP's TFTP port (default 69); the TFTP server is the control IP, or the lease's
                                      siaddr with DHCP
          --address IP                its own address (the slot's); skips DHCP. Without it the module takes a DHCP lease:
          --interface IF              ... on this interface (Linux, root; required for DHCP) ...
          --mac MAC                   ... as this MAC address (default: the interface's) ...
          --vendor-class TEXT         ... with this vendor class, option 60 (default flash-TYPE) ...
          --dhcp-port N               ... from a server on this port (default 67)
          --address-wait N            seconds to wait for the leased address to appear on the interface (default 30; the
                                      module configures nothing itself: `ip addr add` is someone else's job)
          --module-port N             port it receives init commands on (default 7070)
          --fail-release X.Y.Z        misbehave when told to boot this release (repeatable) ...
          --fault never-healthy|crash ... this way (default never-healthy)
          --run-seconds N             stop after N seconds (default: run until killed or Ctrl-C)
        """;

    public required ModuleAddress Module { get; init; }
    public required IPEndPoint Control { get; init; }
    public int TftpPort { get; init; } = 69;
    public IPAddress? Address { get; init; }
    public string? Interface { get; init; }
    public PhysicalAddress? Mac { get; init; }
    public string? VendorClass { get; init; }
    public int DhcpPort { get; init; } = 67;
    public TimeSpan AddressWait { get; init; } = TimeSpan.FromSeconds(30);
    public int ModulePort { get; init; } = 7070;
    public IReadOnlySet<SoftwareVersion> FailReleases { get; init; } = new HashSet<SoftwareVersion>();
    public SimulatedFault Fault { get; init; } = SimulatedFault.NeverHealthy;
    public int? RunSeconds { get; init; }

    /// <summary>Parses the arguments; null for --help.</summary>
    /// <exception cref="ArgumentException">A missing or unknown option.</exception>
    /// <exception cref="FormatException">A malformed value.</exception>
    public static CommandLine? Parse(string[] args)
    {
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        var fail = new HashSet<SoftwareVersion>();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "--help" or "-h")
            {
                return null;
            }

            if (!a.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"unexpected argument '{a}'");
            }

            string v = args[++i];
            switch (a)
            {
                case "--fail-release": fail.Add(ParseVersion(v)); break;
                case "--module" or "--control" or "--tftp-port" or "--address" or "--interface" or "--mac" or "--vendor-class"
                    or "--dhcp-port" or "--address-wait" or "--module-port" or "--fault" or "--run-seconds":
                    o[a] = v;
                    break;
                default: throw new ArgumentException($"unknown option '{a}'");
            }
        }

        int Int(string name, int def) => o.TryGetValue(name, out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : def;
        var module = ParseModule(o.GetValueOrDefault("--module") ?? throw new ArgumentException("--module TYPE@SLOT is required"));
        var address = o.TryGetValue("--address", out var ad) ? IPAddress.Parse(ad) : null;
        var iface = o.GetValueOrDefault("--interface");
        if (address is null && iface is null)
        {
            throw new ArgumentException("give --address IP, or --interface IF to take a DHCP lease");
        }

        return new CommandLine
        {
            Module = module,
            Control = IPEndPoint.Parse(o.GetValueOrDefault("--control") ?? throw new ArgumentException("--control IP:PORT is required")),
            TftpPort = Int("--tftp-port", 69),
            Address = address,
            Interface = iface,
            Mac = o.TryGetValue("--mac", out var mac) ? PhysicalAddress.Parse(mac.Replace(':', '-')) : null,
            VendorClass = o.GetValueOrDefault("--vendor-class"),
            DhcpPort = Int("--dhcp-port", 67),
            AddressWait = TimeSpan.FromSeconds(Int("--address-wait", 30)),
            ModulePort = Int("--module-port", 7070),
            FailReleases = fail,
            Fault = o.GetValueOrDefault("--fault") switch
            {
                null or "never-healthy" => SimulatedFault.NeverHealthy,
                "crash" => SimulatedFault.CrashOnInit,
                var f => throw new ArgumentException($"--fault {f}: expected never-healthy or crash"),
            },
            RunSeconds = o.TryGetValue("--run-seconds", out var rs) ? int.Parse(rs, CultureInfo.InvariantCulture) : null,
        };
    }

    private static ModuleAddress ParseModule(string v) =>
        v.Split('@', 2) is [var type, var slot] && type.Length > 0
            ? new ModuleAddress(type, int.Parse(slot, CultureInfo.InvariantCulture))
            : throw new ArgumentException($"--module {v}: expected TYPE@SLOT");

    private static SoftwareVersion ParseVersion(string v) =>
        v.Split('.') is [var a, var b, var c]
            ? new SoftwareVersion(ushort.Parse(a, CultureInfo.InvariantCulture), ushort.Parse(b, CultureInfo.InvariantCulture), ushort.Parse(c, CultureInfo.InvariantCulture))
            : throw new ArgumentException($"--fail-release {v}: expected MAJOR.MINOR.PATCH");
}

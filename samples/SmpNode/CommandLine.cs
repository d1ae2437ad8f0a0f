using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Flash.Svm.Network;
using Flash.Svm.Sgc;

/// <summary>SmpNode's command line.</summary>
internal sealed class CommandLine
{
    public const string Usage = """
        SmpNode: the software management processor of a node, serving its processor modules from flash.

          --state DIR                 where the two NVS device images, the signing key and the DHCP leases live (required)
          --address IP                address the TFTP, FTP and control servers listen on (default 127.0.0.1)
          --tftp-port N               TFTP port (default 69; 0 = any free port)
          --ftp-port N                FTP port (default 21; 0 = any free port)
          --control-port N            module bus control port (default 7071)
          --module-port N             port modules receive init commands on (default 7070)
          --slot TYPE@SLOT=IP[,MAC]   a module slot with its fixed address (repeatable; default: traffic@1, traffic@2,
                                      xconnect@7 at 127.0.0.11/.12/.17)
          --dhcp-interface IF         serve DHCP on this interface (Linux, root) ...
          --dhcp-mask MASK            ... for this subnet mask (default 255.255.255.0) ...
          --dhcp-port N               ... on this port (default 67)
          --ftp-user USER:PASS        an operator FTP account (default operator:flash)
          --anonymous-ftp             allow anonymous FTP logins from module addresses
          --simulate-modules          run a simulated module at every slot address (loopback slots) and boot them
          --upgrade                   after booting, install release 2 with a trial boot (a partial upgrade)
          --run-seconds N             serve N seconds after the start-up boot, then stop (default: until Ctrl-C)
          --tl1-port N                serve the TL1 agent (raw TL1, GR-831) on --address:N (0 = any free port; off by default)
          --tl1-user USER:PASS        the TL1 administrator account kept hashed in the node configuration (default ADMIN:flash-admin)
          --sid NAME                  the node's TL1 target identifier (default SMP)
          --trial-fails N             judge the trial boot of release N failed (it rolls back)
          --gnoi-port N               serve the gNOI OS service (Install, Activate, Verify; gRPC over TLS) on --address:N
                                      (0 = any free port; off by default; needs --gnoi-cert and --gnoi-client-ca)
          --gnoi-cert FILE            the server certificate: PEM (key in --gnoi-key or after the certificate) or .pfx/.p12
          --gnoi-key FILE             the server certificate's PEM private key
          --gnoi-cert-password PW     the .pfx/.p12 password
          --gnoi-client-ca FILE       PEM CA certificate(s); clients must present a certificate that chains to one
        """;

    public required string State { get; init; }
    public IPAddress Address { get; init; } = IPAddress.Loopback;
    public int TftpPort { get; init; } = 69;
    public int FtpPort { get; init; } = 21;
    public int ControlPort { get; init; } = 7071;
    public int ModulePort { get; init; } = 7070;
    public List<ModuleSlot> Slots { get; init; } = [];
    public string? DhcpInterface { get; init; }
    public IPAddress DhcpMask { get; init; } = IPAddress.Parse("255.255.255.0");
    public int DhcpPort { get; init; } = 67;
    public (string User, string Password) FtpUser { get; init; } = ("operator", "flash");
    public bool AnonymousFtp { get; init; }
    public bool SimulateModules { get; init; }
    public bool Upgrade { get; init; }
    public int? RunSeconds { get; init; }
    public int? Tl1Port { get; init; }
    public (string User, string Password) Tl1User { get; init; } = ("ADMIN", "flash-admin");
    public string Sid { get; init; } = "SMP";
    public int? TrialFails { get; init; }
    public GnoiSettings? Gnoi { get; init; }

    public static CommandLine? Parse(string[] args)
    {
        string? state = null;
        var slots = new List<ModuleSlot>();
        var o = new Dictionary<string, string>(StringComparer.Ordinal);
        var flags = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (a is "--simulate-modules" or "--anonymous-ftp" or "--upgrade" or "--help" or "-h")
            {
                flags.Add(a);
                continue;
            }

            if (!a.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new ArgumentException($"unexpected argument '{a}'");
            }

            string v = args[++i];
            switch (a)
            {
                case "--state": state = v; break;
                case "--slot": slots.Add(ParseSlot(v)); break;
                default: o[a] = v; break;
            }
        }

        if (flags.Contains("--help") || flags.Contains("-h"))
        {
            return null;
        }

        int Port(string name, int def) => o.TryGetValue(name, out var s) ? int.Parse(s, CultureInfo.InvariantCulture) : def;
        var user = o.TryGetValue("--ftp-user", out var u) ? u.Split(':', 2) : ["operator", "flash"];
        var tl1User = o.TryGetValue("--tl1-user", out var tu) ? tu.Split(':', 2) : ["ADMIN", "flash-admin"];
        return new CommandLine
        {
            State = state ?? throw new ArgumentException("--state DIR is required"),
            Address = o.TryGetValue("--address", out var ad) ? IPAddress.Parse(ad) : IPAddress.Loopback,
            TftpPort = Port("--tftp-port", 69),
            FtpPort = Port("--ftp-port", 21),
            ControlPort = Port("--control-port", 7071),
            ModulePort = Port("--module-port", 7070),
            Slots = slots.Count > 0 ? slots :
            [
                new ModuleSlot(new ModuleAddress("traffic", 1), IPAddress.Parse("127.0.0.11")),
                new ModuleSlot(new ModuleAddress("traffic", 2), IPAddress.Parse("127.0.0.12")),
                new ModuleSlot(new ModuleAddress("xconnect", 7), IPAddress.Parse("127.0.0.17")),
            ],
            DhcpInterface = o.GetValueOrDefault("--dhcp-interface"),
            DhcpMask = o.TryGetValue("--dhcp-mask", out var m) ? IPAddress.Parse(m) : IPAddress.Parse("255.255.255.0"),
            DhcpPort = Port("--dhcp-port", 67),
            FtpUser = (user[0], user.Length > 1 ? user[1] : ""),
            AnonymousFtp = flags.Contains("--anonymous-ftp"),
            SimulateModules = flags.Contains("--simulate-modules"),
            Upgrade = flags.Contains("--upgrade"),
            RunSeconds = o.TryGetValue("--run-seconds", out var rs) ? int.Parse(rs, CultureInfo.InvariantCulture) : null,
            Tl1Port = o.TryGetValue("--tl1-port", out var tp) ? int.Parse(tp, CultureInfo.InvariantCulture) : null,
            Tl1User = (tl1User[0].ToUpperInvariant(), tl1User.Length > 1 ? tl1User[1] : ""),
            Sid = o.TryGetValue("--sid", out var sid) ? sid.ToUpperInvariant() : "SMP",
            TrialFails = o.TryGetValue("--trial-fails", out var tf) ? int.Parse(tf, CultureInfo.InvariantCulture) : null,
            Gnoi = ParseGnoi(o),
        };
    }

    private static GnoiSettings? ParseGnoi(Dictionary<string, string> o)
    {
        if (!o.TryGetValue("--gnoi-port", out var port))
        {
            return o.Keys.FirstOrDefault(k => k.StartsWith("--gnoi-", StringComparison.Ordinal)) is { } stray
                ? throw new ArgumentException($"{stray} needs --gnoi-port")
                : null;
        }

        return new GnoiSettings(
            int.Parse(port, CultureInfo.InvariantCulture),
            o.GetValueOrDefault("--gnoi-cert") ?? throw new ArgumentException("--gnoi-port needs --gnoi-cert FILE (the server certificate)"),
            o.GetValueOrDefault("--gnoi-key"),
            o.GetValueOrDefault("--gnoi-cert-password"),
            o.GetValueOrDefault("--gnoi-client-ca") ?? throw new ArgumentException("--gnoi-port needs --gnoi-client-ca FILE (client certificates are required)"));
    }

    private static ModuleSlot ParseSlot(string v)
    {
        // TYPE@SLOT=IP[,MAC]
        var (module, rest) = (v.Split('=', 2)[0], v.Split('=', 2) is [_, var r] ? r : throw new ArgumentException($"--slot {v}: expected TYPE@SLOT=IP[,MAC]"));
        var parts = module.Split('@', 2);
        var addr = rest.Split(',', 2);
        return new ModuleSlot(
            new ModuleAddress(parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture)),
            IPAddress.Parse(addr[0]),
            addr.Length > 1 ? PhysicalAddress.Parse(addr[1].Replace(':', '-')) : null);
    }
}

/// <summary>The gNOI server's settings from the command line.</summary>
internal sealed record GnoiSettings(int Port, string Certificate, string? Key, string? Password, string ClientCa);

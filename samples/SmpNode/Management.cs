using System.Net;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Management.Grpc;
using Flash.Svm.Management.Tl1;
using Flash.Svm.Management.Upgrades;
using Flash.Svm.Node;
using Microsoft.Extensions.Logging;

/// <summary>
/// SmpNode's remote management (Flash.Svm.Management): the upgrade state machine on NVS, the TL1 agent (--tl1-port)
/// and the gNOI OS service (--gnoi-port, TLS with required client certificates), both over the one machine.
/// </summary>
internal sealed class Management : IAsyncDisposable
{
    private Management(UpgradeStateMachine machine, Tl1Agent? agent, GnoiServer? gnoi)
    {
        Machine = machine;
        Agent = agent;
        Gnoi = gnoi;
    }

    public UpgradeStateMachine Machine { get; }

    public Tl1Agent? Agent { get; }

    public GnoiServer? Gnoi { get; }

    /// <summary>
    /// Starts what the command line asks for (nothing without --tl1-port and --gnoi-port). With TL1, the administrator
    /// account is added (hashed) to the node configuration if missing.
    /// </summary>
    public static async Task<Management?> StartAsync(CommandLine cl, SoftwareVersionManager svm, IModuleBus bus, GnoiPackageSource gnoiSource, ILoggerFactory logs, Action saveImages)
    {
        if (cl.Tl1Port is null && cl.Gnoi is null)
        {
            return null;
        }

        if (cl.Tl1Port is not null)
        {
            var node = svm.ReadConfiguration(ConfigurationFile.NodeName) ?? new ConfigurationFile(ConfigurationFile.NodeName, 0, new Dictionary<string, string>());
            var key = Tl1Accounts.SettingPrefix + cl.Tl1User.User;
            if (Tl1Accounts.Verify(node, cl.Tl1User.User, cl.Tl1User.Password) is null)
            {
                svm.ChangeConfiguration(node.With(key, Tl1Accounts.Hash(cl.Tl1User.Password, Tl1Privilege.Administration)));
                saveImages();
            }
        }

        var machine = new UpgradeStateMachine(svm, new NvsUpgradeStateStore(svm), logs.CreateLogger("upgrade"));
        machine.Recover();
        // Every stored state change is also saved to the image files, so a killed SmpNode restarts where it was.
        machine.Changed += (_, _) => saveImages();
        Tl1Agent? agent = null;
        if (cl.Tl1Port is { } port)
        {
            agent = new Tl1Agent(machine, new Tl1AgentOptions { Endpoint = new IPEndPoint(cl.Address, port), Sid = cl.Sid, Bus = bus, Logger = logs.CreateLogger("tl1") });
            agent.Start();
        }

        GnoiServer? gnoi = null;
        if (cl.Gnoi is { } g)
        {
            gnoi = new GnoiServer(machine, gnoiSource, new GnoiOptions
            {
                Endpoint = new IPEndPoint(cl.Address, g.Port),
                ServerCertificate = GnoiCertificates.LoadServer(g.Certificate, g.Key, g.Password),
                ClientAuthorities = GnoiCertificates.LoadAuthorities(g.ClientCa),
                Logger = logs.CreateLogger("gnoi"),
            });
            await gnoi.StartAsync();
        }

        return new Management(machine, agent, gnoi);
    }

    public async ValueTask DisposeAsync()
    {
        if (Gnoi is not null)
        {
            await Gnoi.DisposeAsync();
        }

        if (Agent is not null)
        {
            await Agent.DisposeAsync();
        }

        Machine.Dispose();
    }
}

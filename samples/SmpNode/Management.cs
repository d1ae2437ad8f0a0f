using System.Net;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Management.Tl1;
using Flash.Svm.Management.Upgrades;
using Flash.Svm.Node;
using Microsoft.Extensions.Logging;

/// <summary>SmpNode's remote management: the upgrade state machine on NVS and the TL1 agent (Flash.Svm.Management).</summary>
internal static class Management
{
    /// <summary>Starts the TL1 agent when --tl1-port is given; the administrator account is added (hashed) to the node configuration if missing.</summary>
    public static (UpgradeStateMachine Machine, Tl1Agent Agent)? Start(CommandLine cl, SoftwareVersionManager svm, IModuleBus bus, ILoggerFactory logs, Action saveImages)
    {
        if (cl.Tl1Port is not { } port)
        {
            return null;
        }

        var node = svm.ReadConfiguration(ConfigurationFile.NodeName) ?? new ConfigurationFile(ConfigurationFile.NodeName, 0, new Dictionary<string, string>());
        var key = Tl1Accounts.SettingPrefix + cl.Tl1User.User;
        if (Tl1Accounts.Verify(node, cl.Tl1User.User, cl.Tl1User.Password) is null)
        {
            svm.ChangeConfiguration(node.With(key, Tl1Accounts.Hash(cl.Tl1User.Password, Tl1Privilege.Administration)));
            saveImages();
        }

        var machine = new UpgradeStateMachine(svm, new NvsUpgradeStateStore(svm), logs.CreateLogger("upgrade"));
        machine.Recover();
        // Every stored state change is also saved to the image files, so a killed SmpNode restarts where it was.
        machine.Changed += (_, _) => saveImages();
        var agent = new Tl1Agent(machine, new Tl1AgentOptions { Endpoint = new IPEndPoint(cl.Address, port), Sid = cl.Sid, Bus = bus, Logger = logs.CreateLogger("tl1") });
        agent.Start();
        return (machine, agent);
    }
}

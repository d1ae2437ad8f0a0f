using System.Net;
using Flash.Svm.Management.Tl1;
using Flash.Svm.Packages;

namespace Flash.Svm.Management.Tests.Tl1;

/// <summary>A managed node with a TL1 agent on a free loopback port and three accounts (ADMIN, MAINT, VIEWER; cheap hashes for speed).</summary>
internal sealed class AgentFixture : IAsyncDisposable
{
    public const string AdminPassword = "Adm1n-Secret";
    public const string MaintPassword = "Ma1nt-Secret";
    public const string ViewerPassword = "V1ewer-Secret";

    private readonly Tl1AgentOptions _options;

    private AgentFixture(ManagedNode node, Tl1Agent agent, Tl1AgentOptions options)
    {
        Node = node;
        Agent = agent;
        _options = options;
    }

    public ManagedNode Node { get; }

    public Tl1Agent Agent { get; private set; }

    public IPEndPoint Endpoint => Agent.LocalEndPoint;

    public static AgentFixture Start(ISoftwareSource? extra = null, Func<Tl1AgentOptions, Tl1AgentOptions>? tweak = null)
    {
        var node = new ManagedNode(
        [
            new(Tl1Accounts.SettingPrefix + "ADMIN", Tl1Accounts.Hash(AdminPassword, Tl1Privilege.Administration, 1000)),
            new(Tl1Accounts.SettingPrefix + "MAINT", Tl1Accounts.Hash(MaintPassword, Tl1Privilege.Maintenance, 1000)),
            new(Tl1Accounts.SettingPrefix + "VIEWER", Tl1Accounts.Hash(ViewerPassword, Tl1Privilege.Retrieve, 1000)),
        ], extra);
        var options = new Tl1AgentOptions { Endpoint = new IPEndPoint(IPAddress.Loopback, 0), Sid = "NODE-A", Bus = node.Bus, ModuleHealthTimeout = TimeSpan.FromSeconds(2) };
        options = tweak is null ? options : tweak(options);
        var agent = new Tl1Agent(node.Machine, options);
        agent.Start();
        return new AgentFixture(node, agent, options);
    }

    /// <summary>A restart of the node: the agent stops, SVM and the machine start again from NVS, a new agent listens (on a new port).</summary>
    public async Task RestartAsync()
    {
        await Agent.DisposeAsync();
        Node.Restart();
        Agent = new Tl1Agent(Node.Machine, _options);
        Agent.Start();
    }

    public async Task<Tl1Client> LoggedInAsync(string user = "ADMIN", string password = AdminPassword)
    {
        var c = await Tl1Client.ConnectAsync(Endpoint);
        var r = await c.CommandAsync($"ACT-USER:NODE-A:{user}:1::{password};", "1");
        Assert.Contains("COMPLD", r, StringComparison.Ordinal);
        return c;
    }

    public async ValueTask DisposeAsync()
    {
        await Agent.DisposeAsync();
        Node.Dispose();
    }
}

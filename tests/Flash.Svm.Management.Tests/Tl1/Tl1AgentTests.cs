using Flash.Svm.Configuration;
using Flash.Svm.Management.Tl1;
using Flash.Svm.Management.Upgrades;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Tests.Tl1;

public sealed class Tl1AgentTests
{
    private static readonly SoftwareVersion R2 = new(2, 0, 0);

    [Fact]
    public async Task AnOperatorUpgradesTheNodeOverTl1()
    {
        await using var f = AgentFixture.Start();
        await using var c = await f.LoggedInAsync();
        var copy = await c.CommandAsync("COPY-RFILE:NODE-A::10::TYPE=SWDL,SRC=\"mem:r2.pkg\";", "10");
        Assert.Contains("M  10 COMPLD", copy, StringComparison.Ordinal);
        await c.AutonomousAsync("FXFRSTATUS=COMPLD");
        Assert.Contains(c.Autonomous, a => a.Contains("FXFRSTATUS=INPROGRESS", StringComparison.Ordinal) && a.Contains("REPT EVT FXFR", StringComparison.Ordinal));
        var prog = await c.AutonomousAsync("REPT EVT PROGDEV");
        Assert.Contains("TRAFFIC-1:DEVICE=FPGA0", prog, StringComparison.Ordinal);
        Assert.Contains("STATE=VALIDATED", await c.CommandAsync("RTRV-UPG:::11;", "11"), StringComparison.Ordinal);

        var act = await c.CommandAsync("APPLY:NODE-A::12::ACTTYPE=ACT;", "12");
        Assert.Contains("M  12 COMPLD", act, StringComparison.Ordinal);
        Assert.Contains("IP 12\r\n<", c.All.First(m => m.StartsWith("IP 12", StringComparison.Ordinal)), StringComparison.Ordinal);
        await c.AutonomousAsync("RESULT=PASSED");
        Assert.Contains("M  13 COMPLD", await c.CommandAsync("APPLY:::13::ACTTYPE=ACPT;", "13"), StringComparison.Ordinal);
        var sw = await c.CommandAsync("RTRV-SW:::14;", "14");
        Assert.Contains("CURRENT:RELEASE=2.0.0", sw, StringComparison.Ordinal);
        Assert.Equal((UpgradeState.Committed, R2), (f.Node.Machine.Status.State, f.Node.Machine.Status.Target));

        // ATAGs increase.
        var atags = c.Autonomous.Select(a => long.Parse(a.Split("\r\n")[2].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(atags.Order().ToList(), atags);

        Assert.Contains("M  15 COMPLD", await c.CommandAsync("CANC-USER:NODE-A:ADMIN:15;", "15"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetrievalsAndModuleInit()
    {
        await using var f = AgentFixture.Start();
        await using var c = await f.LoggedInAsync("MAINT", AgentFixture.MaintPassword);
        var ctx = await c.CommandAsync("RTRV-CONTEXT:::1;", "1");
        Assert.Contains(":ROLE=CURRENT,STATE=VALID,LABEL=\\\"1.0.0\\\"", ctx, StringComparison.Ordinal);
        var nvs = await c.CommandAsync("RTRV-NVS:::2;", "2");
        Assert.Equal(2, nvs.Split("STATUS=INSERVICE").Length - 1);
        var eq = await c.CommandAsync("RTRV-EQPT:::3;", "3");
        Assert.Contains("TRAFFIC-1:HEALTH=Healthy", eq, StringComparison.Ordinal);
        Assert.Contains("XCONNECT-5:HEALTH=Healthy", eq, StringComparison.Ordinal);
        int before = f.Node.Modules[1].InitCount;
        int others = f.Node.Modules[0].InitCount;
        Assert.Contains("TRAFFIC-2:HEALTH=Healthy", await c.CommandAsync("INIT-SYS::TRAFFIC-2:4;", "4"), StringComparison.Ordinal);
        Assert.Equal((before + 1, others), (f.Node.Modules[1].InitCount, f.Node.Modules[0].InitCount));
        Assert.Contains("IIAC", await c.CommandAsync("INIT-SYS::TRAFFIC-9:5;", "5"), StringComparison.Ordinal);
        Assert.Contains("RELEASE=1.0.0,INITIALISED=0,FAILED=0", await c.CommandAsync("INIT-SYS::SYS:6;", "6"), StringComparison.Ordinal);
        Assert.Contains("M  7 COMPLD", await c.CommandAsync("RTRV-ALM-ALL:::7;", "7"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AModuleThatFailsRaisesAnAlarmThatClearsWhenItIsInitialised()
    {
        await using var f = AgentFixture.Start();
        await using var c = await f.LoggedInAsync();
        f.Node.Modules[2].Fault = Flash.Svm.Node.SimulatedFault.NeverHealthy;
        f.Node.Modules[2].Reset();
        Assert.Contains("FAILED=1", await c.CommandAsync("INIT-SYS:::11;", "11"), StringComparison.Ordinal);
        var alm = await c.AutonomousAsync("REPT ALM");
        Assert.Contains("XCONNECT-5:MINOR,INITFAIL", alm, StringComparison.Ordinal);
        Assert.Contains("XCONNECT-5:Minor,INITFAIL", await c.CommandAsync("RTRV-ALM-ALL:::2;", "2"), StringComparison.Ordinal);
        f.Node.Modules[2].Fault = Flash.Svm.Node.SimulatedFault.None;
        await c.CommandAsync("INIT-SYS:::3;", "3");
        await c.AutonomousAsync("XCONNECT-5:CL,INITFAIL");
        Assert.Empty(f.Agent.Alarms.Active);
    }

    [Fact]
    public async Task LoginPrivilegeAndLockout()
    {
        await using var f = AgentFixture.Start();
        await using var c = await Tl1Client.ConnectAsync(f.Endpoint);
        Assert.Contains("PLNA", await c.CommandAsync("RTRV-SW:::1;", "1"), StringComparison.Ordinal);
        Assert.Contains("PIUI", await c.CommandAsync("ACT-USER::NOBODY:2::x;", "2"), StringComparison.Ordinal);
        Assert.Contains("PIUI", await c.CommandAsync("ACT-USER::VIEWER:3::wrong;", "3"), StringComparison.Ordinal);
        Assert.Contains("PIUI", await c.CommandAsync("ACT-USER::VIEWER:4::wrong;", "4"), StringComparison.Ordinal);
        Assert.Contains("PIUL", await c.CommandAsync("ACT-USER::VIEWER:5::wrong;", "5"), StringComparison.Ordinal);
        Assert.Contains("PIUL", await c.CommandAsync($"ACT-USER::VIEWER:6::{AgentFixture.ViewerPassword};", "6"), StringComparison.Ordinal);
        // Another user is not affected by the lock.
        Assert.Contains("COMPLD", await c.CommandAsync($"ACT-USER::MAINT:7::{AgentFixture.MaintPassword};", "7"), StringComparison.Ordinal);
        Assert.Contains("PICC", await c.CommandAsync("APPLY:::8::ACTTYPE=ACT;", "8"), StringComparison.Ordinal);
        Assert.Contains("ICNV", await c.CommandAsync("DLT-EVERYTHING:::9;", "9"), StringComparison.Ordinal);
        Assert.Contains("IITA", await c.CommandAsync("RTRV-SW:OTHER::10;", "10"), StringComparison.Ordinal);
        var table = f.Node.Svm.ReadTable();
        Assert.Equal(UpgradeState.Idle, f.Node.Machine.Status.State);
        Assert.Equal(table, f.Node.Svm.ReadTable());
    }

    [Fact]
    public async Task ASecondInstallWhileOneRunsIsDeniedAndNothingChanges()
    {
        var slow = new BlockingSource(ManagedNode.Release(2, ManagedNode.Key));
        await using var f = AgentFixture.Start(slow);
        await using var a = await f.LoggedInAsync();
        await using var b = await f.LoggedInAsync("MAINT", AgentFixture.MaintPassword);
        Assert.Contains("COMPLD", await a.CommandAsync("COPY-RFILE:::1::TYPE=SWDL,SRC=\"slow:r2.pkg\";", "1"), StringComparison.Ordinal);
        Assert.True(slow.Started.Wait(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
        var deny = await b.CommandAsync("COPY-RFILE:::2::TYPE=SWDL,SRC=\"mem:r3.pkg\";", "2");
        Assert.Contains("M  2 DENY\r\n   SAIP", deny, StringComparison.Ordinal);
        Assert.Contains("SAIP", await b.CommandAsync("INIT-SYS:::3;", "3"), StringComparison.Ordinal);
        Assert.Contains("SRQN", await a.CommandAsync("APPLY:::4::ACTTYPE=ACPT;", "4"), StringComparison.Ordinal);
        // Both sessions hear the download's progress; cancelling ends it.
        Assert.Contains("COMPLD", await a.CommandAsync("APPLY:::5::ACTTYPE=CANC;", "5"), StringComparison.Ordinal);
        await b.AutonomousAsync("FXFRSTATUS=FAILED");
        await f.Node.Machine.Running.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.Equal((UpgradeState.Idle, UpgradeOutcome.Cancelled), (f.Node.Machine.Status.State, f.Node.Machine.Status.Outcome));
        Assert.Equal(new SoftwareVersion(1, 0, 0), f.Node.Svm.ReadTable().CurrentRelease());
    }

    [Fact]
    public async Task MalformedAndOversizeLinesAreDeniedAndTheSessionGoesOn()
    {
        await using var f = AgentFixture.Start();
        await using var c = await f.LoggedInAsync();
        Assert.Contains("M  0 DENY\r\n   IISP", await c.CommandAsync("garbage;", "0"), StringComparison.Ordinal);
        Assert.Contains("M  21 DENY\r\n   IPNV", await c.CommandAsync("COPY-RFILE:::21::SRC=a,SRC=b;", "21"), StringComparison.Ordinal);
        Assert.Contains("IDNV", await c.CommandAsync("COPY-RFILE:::22::TYPE=SWDL,SRC=nothing;", "22"), StringComparison.Ordinal);
        Assert.Contains("IPNV", await c.CommandAsync("COPY-RFILE:::23::TYPE=SWDL;", "23"), StringComparison.Ordinal);
        await c.SendAsync("RTRV-HDR:::24::" + new string('X', Tl1Parser.MaxMessageLength + 100) + ";");
        Assert.Contains("IISP", await c.ResponseAsync("24"), StringComparison.Ordinal);
        Assert.Contains("M  25 COMPLD", await c.CommandAsync("\r\n  RTRV-HDR:::25;", "25"), StringComparison.Ordinal);
        Assert.Equal(UpgradeState.Idle, f.Node.Machine.Status.State);
    }

    [Fact]
    public async Task ConfigurationBackupAndRestore()
    {
        await using var f = AgentFixture.Start();
        await using var c = await f.LoggedInAsync();
        var backup = await c.CommandAsync("RTRV-CFG:::1::NAME=node;", "1");
        var data = backup.Split("DATA=")[1].Split('"')[0];
        Assert.Contains("COMPLD", await c.CommandAsync("ED-CFG:::2::NAME=node,KEY=hostname,VALUE=\"changed\";", "2"), StringComparison.Ordinal);
        Assert.Equal("changed", f.Node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);
        Assert.Contains("IDNV", await c.CommandAsync("ED-CFG:::3::KEY=tl1.user.X,VALUE=y;", "3"), StringComparison.Ordinal);

        // A corrupt backup is refused and nothing stored changes.
        var bytes = Convert.FromBase64String(data);
        bytes[^1] ^= 1;
        var before = f.Node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.ToBytes();
        Assert.Contains("IDNV", await c.CommandAsync($"RST-CFG:::4::NAME=node,DATA={Convert.ToBase64String(bytes)};", "4"), StringComparison.Ordinal);
        Assert.Contains("IDNV", await c.CommandAsync("RST-CFG:::5::NAME=node,DATA=!!!;", "5"), StringComparison.Ordinal);
        Assert.Equal(before, f.Node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.ToBytes());

        Assert.Contains("COMPLD", await c.CommandAsync($"RST-CFG:::6::NAME=node,DATA={data};", "6"), StringComparison.Ordinal);
        Assert.Equal("node-a", f.Node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings["hostname"]);

        // A new account works at once, with its hash (not the password) in the configuration.
        Assert.Contains("COMPLD", await c.CommandAsync("ENT-USER-SECU::OPS2:7::PID=\"Ops2-Secret\",PRIV=1;", "7"), StringComparison.Ordinal);
        var entry = f.Node.Svm.ReadConfiguration(ConfigurationFile.NodeName)!.Settings[Tl1Accounts.SettingPrefix + "OPS2"];
        Assert.StartsWith("pbkdf2-sha256:", entry, StringComparison.Ordinal);
        Assert.DoesNotContain("Ops2-Secret", entry, StringComparison.Ordinal);
        await using var ops = await f.LoggedInAsync("OPS2", "Ops2-Secret");
    }

    [Fact]
    public async Task ManySessionsAtOnce()
    {
        await using var f = AgentFixture.Start(tweak: o => new Tl1AgentOptions { Endpoint = o.Endpoint, Sid = o.Sid, Bus = o.Bus, MaxSessions = 40 });
        var sessions = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            var c = await f.LoggedInAsync("VIEWER", AgentFixture.ViewerPassword);
            for (int k = 0; k < 5; k++)
            {
                Assert.Contains("COMPLD", await c.CommandAsync($"RTRV-SW:::{i}x{k};", $"{i}x{k}"), StringComparison.Ordinal);
            }

            return c;
        }));
        Assert.Equal(40, f.Agent.SessionCount);

        // The 41st is told and closed; the others go on.
        await using var extra = await Tl1Client.ConnectAsync(f.Endpoint);
        Assert.Contains("SROF", await extra.NextAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Contains("COMPLD", await sessions[7].CommandAsync("RTRV-HDR:::99;", "99"), StringComparison.Ordinal);
        foreach (var s in sessions)
        {
            await s.DisposeAsync();
        }
    }
}

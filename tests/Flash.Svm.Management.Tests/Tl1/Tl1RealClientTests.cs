namespace Flash.Svm.Management.Tests.Tl1;

/// <summary>The agent with real TL1 clients: socat as a raw craft terminal, expect scripting a whole upgrade.</summary>
public sealed class Tl1RealClientTests
{
    [Fact]
    public async Task SocatSessionsRetrieveAndAreDenied()
    {
        var socat = ExternalTools.Require("socat");
        await using var f = AgentFixture.Start();
        string script = $"ACT-USER:NODE-A:VIEWER:1::{AgentFixture.ViewerPassword};\r\nRTRV-SW:NODE-A::2;\r\nCOPY-RFILE:::3::TYPE=SWDL,SRC=\"mem:r2.pkg\";\r\nBAD LINE;\r\nCANC-USER:NODE-A:VIEWER:4;\r\n";
        var (exit, output) = await ExternalTools.RunAsync(socat, ["-t", "10", "-", $"TCP:{f.Endpoint}"], TimeSpan.FromSeconds(30), script);
        Assert.True(exit == 0, output);
        Assert.Contains("M  1 COMPLD", output, StringComparison.Ordinal);
        Assert.Contains("CURRENT:RELEASE=1.0.0", output, StringComparison.Ordinal);
        Assert.Contains("M  3 DENY\r\n   PICC", output, StringComparison.Ordinal);
        Assert.Contains("M  0 DENY\r\n   IISP", output, StringComparison.Ordinal);
        Assert.Contains("M  4 COMPLD", output, StringComparison.Ordinal);
        Assert.Equal(Flash.Svm.Management.Upgrades.UpgradeState.Idle, f.Node.Machine.Status.State);
    }

    [Fact]
    public async Task ManySocatSessionsAtOnce()
    {
        var socat = ExternalTools.Require("socat");
        await using var f = AgentFixture.Start();
        var runs = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => ExternalTools.RunAsync(socat, ["-t", "10", "-", $"TCP:{f.Endpoint}"], TimeSpan.FromSeconds(60),
            $"ACT-USER::VIEWER:{i}a::{AgentFixture.ViewerPassword};RTRV-EQPT:::{i}b;RTRV-NVS:::{i}c;CANC-USER::VIEWER:{i}d;")));
        for (int i = 0; i < runs.Length; i++)
        {
            Assert.True(runs[i].Exit == 0, runs[i].Output);
            Assert.Contains($"M  {i}b COMPLD", runs[i].Output, StringComparison.Ordinal);
            Assert.Contains($"M  {i}d COMPLD", runs[i].Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnExpectScriptUpgradesTheNode()
    {
        var expect = ExternalTools.Require("expect");
        var socat = ExternalTools.Require("socat");
        await using var f = AgentFixture.Start();
        var script = Path.Combine(Path.GetTempPath(), $"flash-tl1-{Guid.NewGuid():N}.exp");
        await File.WriteAllTextAsync(script, $$"""
            set timeout 30
            log_user 1
            spawn {{socat}} - TCP:{{f.Endpoint}}
            send "ACT-USER:NODE-A:ADMIN:1::{{AgentFixture.AdminPassword}};\r"
            expect {
                "M  1 COMPLD" {}
                timeout { exit 11 }
            }
            send "COPY-RFILE:NODE-A::2::TYPE=SWDL,SRC=\"mem:r2.pkg\";\r"
            expect {
                "M  2 COMPLD" {}
                timeout { exit 12 }
            }
            expect {
                "FXFRSTATUS=COMPLD" {}
                timeout { exit 13 }
            }
            send "APPLY:NODE-A::3::ACTTYPE=ACT;\r"
            expect {
                "IP 3" {}
                timeout { exit 14 }
            }
            expect {
                "M  3 COMPLD" {}
                timeout { exit 15 }
            }
            send "APPLY:NODE-A::4::ACTTYPE=ACPT;\r"
            expect {
                "M  4 COMPLD" {}
                timeout { exit 16 }
            }
            send "RTRV-SW:NODE-A::5;\r"
            expect {
                "CURRENT:RELEASE=2.0.0" {}
                timeout { exit 17 }
            }
            send "CANC-USER:NODE-A:ADMIN:6;\r"
            expect {
                "M  6 COMPLD" {}
                timeout { exit 18 }
            }
            expect eof
            exit 0
            """, TestContext.Current.CancellationToken);
        try
        {
            var (exit, output) = await ExternalTools.RunAsync(expect, [script], TimeSpan.FromSeconds(90));
            Assert.True(exit == 0, $"expect exited {exit}:\n{output}");
            Assert.Contains("REPT EVT PROGDEV", output, StringComparison.Ordinal);
            Assert.Equal(Flash.Svm.Management.Upgrades.UpgradeState.Committed, f.Node.Machine.Status.State);
        }
        finally
        {
            File.Delete(script);
        }
    }
}

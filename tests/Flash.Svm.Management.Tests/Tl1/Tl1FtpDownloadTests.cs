using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Management.Tests.Tl1;

/// <summary>
/// COPY-RFILE through a real FTP server: vsftpd on loopback serves a signed package, a TL1 session on the SmpNode
/// process downloads it (REPT EVT FXFR progress, then COMPLD), APPLY activates it on trial and accepts it, and the
/// node runs the new release.
/// </summary>
public sealed class Tl1FtpDownloadTests
{
    [Fact]
    public async Task CopyRfileFromVsftpdThenApplyActivatesAndAccepts()
    {
        using var ftp = VsftpdServer.TryStart(out var reason);
        if (ftp is null)
        {
            Assert.Skip(reason);
        }

        var tmp = Directory.CreateTempSubdirectory("flash-smp-ftp-");
        try
        {
            // The node trusts the key in its state directory: the test signs release 2 with it.
            var state = Path.Combine(tmp.FullName, "state");
            Directory.CreateDirectory(state);
            await File.WriteAllTextAsync(Path.Combine(state, "signing-key.pem"), ManagedNode.Key.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);
            ftp.Put("r2.pkg", ManagedNode.Release(2, ManagedNode.Key, securityCounter: null));

            int port = SmpNodeProcess.FreePort();
            await using var smp = SmpNodeProcess.Start(state, ["--tl1-port", SmpNodeProcess.Port(port), "--sid", "SMP", "--run-seconds", "300"]);
            await smp.WaitForListenerAsync(port);
            await using var c = await Tl1Client.ConnectAsync(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port));
            Assert.Contains("M  1 COMPLD", await c.CommandAsync("ACT-USER:SMP:ADMIN:1::flash-admin;", "1"), StringComparison.Ordinal);

            var url = ftp.Url("r2.pkg");
            var started = await c.CommandAsync($"COPY-RFILE:SMP::2::TYPE=SWDL,SRC=\"{url}\";", "2");
            Assert.Contains("M  2 COMPLD", started, StringComparison.Ordinal);
            Assert.Contains("FXFRSTATUS=START", started, StringComparison.Ordinal);
            var done = await c.AutonomousAsync("FXFRSTATUS=", TimeSpan.FromSeconds(120));
            while (done.Contains("FXFRSTATUS=INPROGRESS", StringComparison.Ordinal))
            {
                done = await NextTransferEventAsync(c, done);
            }

            Assert.True(done.Contains("FXFRSTATUS=COMPLD", StringComparison.Ordinal), $"{done}\n--- SmpNode:\n{smp.Output}");
            Assert.Contains("FXFRRSLT=SUCCESS", done, StringComparison.Ordinal);
            Assert.Contains($"FROMURI=\\\"{url}\\\"", done, StringComparison.Ordinal); // quotes inside a quoted TL1 line are escaped
            Assert.Contains(c.Autonomous, a => a.Contains("REPT EVT FXFR", StringComparison.Ordinal) && a.Contains("FXFRSTATUS=INPROGRESS", StringComparison.Ordinal) && a.Contains(url, StringComparison.Ordinal));

            var act = await c.CommandAsync("APPLY:SMP::3::ACTTYPE=ACT;", "3", TimeSpan.FromSeconds(120));
            Assert.True(act.Contains("M  3 COMPLD", StringComparison.Ordinal), act);
            Assert.Contains(c.All, m => m.StartsWith("IP 3", StringComparison.Ordinal) || m.Contains("\nIP 3", StringComparison.Ordinal));
            Assert.Contains("M  4 COMPLD", await c.CommandAsync("APPLY:SMP::4::ACTTYPE=ACPT;", "4"), StringComparison.Ordinal);
            var sw = await c.CommandAsync("RTRV-SW:SMP::5;", "5");
            Assert.Contains("CURRENT:RELEASE=2.0.0", sw, StringComparison.Ordinal);
            Assert.Contains("STATE=COMMITTED", await c.CommandAsync("RTRV-UPG:SMP::6;", "6"), StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            tmp.Delete(recursive: true);
        }
    }

    /// <summary>The first FXFR event after <paramref name="previous"/>.</summary>
    private static async Task<string> NextTransferEventAsync(Tl1Client c, string previous)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        int seen = c.Autonomous.IndexOf(previous);
        while (true)
        {
            var next = c.Autonomous.Skip(seen + 1).FirstOrDefault(a => a.Contains("FXFRSTATUS=", StringComparison.Ordinal));
            if (next is not null)
            {
                return next;
            }

            await c.NextAsync(cts.Token);
        }
    }
}

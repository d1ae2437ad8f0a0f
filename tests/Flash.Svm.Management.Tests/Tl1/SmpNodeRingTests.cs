using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flash.Svm.Management.Tl1;

namespace Flash.Svm.Management.Tests.Tl1;

/// <summary>A ring of real SmpNode processes on loopback, each with its own NVS image files, upgraded one after the other over TL1.</summary>
public sealed class SmpNodeRingTests
{
    [Fact]
    public async Task ARingOfSmpNodeProcessesStopsAtTheNodeWhoseTrialFails()
    {
        var dll = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "samples", "SmpNode", "bin", "Debug", "net10.0", "SmpNode.dll"));
        if (!File.Exists(dll))
        {
            Assert.Skip($"SmpNode is not built ({dll}); dotnet build samples/SmpNode");
        }

        const int n = 3;
        var root = Path.Combine(Path.GetTempPath(), "flash-ring-" + Guid.NewGuid().ToString("N")[..10]);
        var ports = Enumerable.Range(0, n).Select(_ => FreePort()).ToList();
        var nodes = new List<Process>();
        try
        {
            for (int i = 0; i < n; i++)
            {
                var args = new List<string> { dll, "--state", Path.Combine(root, $"node{i}"), "--tftp-port", "0", "--ftp-port", "0", "--control-port", "0",
                    "--module-port", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--tl1-port", ports[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
                    "--sid", $"NODE{i}", "--run-seconds", "120" };
                if (i == 1)
                {
                    args.AddRange(["--trial-fails", "2"]);
                }

                var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                args.ForEach(psi.ArgumentList.Add);
                var p = Process.Start(psi)!;
                p.OutputDataReceived += (_, _) => { };
                p.ErrorDataReceived += (_, _) => { };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                nodes.Add(p);
            }

            var endpoints = ports.Select(p => new IPEndPoint(IPAddress.Loopback, p)).ToList();
            foreach (var e in endpoints)
            {
                await WaitForListener(e);
            }

            var results = await new Tl1RingUpgrade("ADMIN", "flash-admin", "mem:release-2.pkg").RollAsync(endpoints, TestContext.Current.CancellationToken);
            Assert.Equal([RingNodeOutcome.Committed, RingNodeOutcome.RolledBack, RingNodeOutcome.Skipped], results.Select(r => r.Outcome));
            var releases = new List<string>();
            foreach (var e in endpoints)
            {
                await using var c = await Tl1Connection.ConnectAsync(e, TestContext.Current.CancellationToken);
                await c.CommandAsync("ACT-USER::ADMIN:{0}::\"flash-admin\";", TestContext.Current.CancellationToken);
                var sw = await c.CommandAsync("RTRV-SW:::{0};", TestContext.Current.CancellationToken);
                releases.Add(sw.Response.Split("CURRENT:RELEASE=")[1].Split(',')[0]);
            }

            Assert.Equal(["2.0.0", "1.0.0", "1.0.0"], releases);
        }
        finally
        {
            foreach (var p in nodes)
            {
                if (!p.HasExited)
                {
                    p.Kill(entireProcessTree: true);
                }

                await p.WaitForExitAsync(CancellationToken.None);
                p.Dispose();
            }

            Directory.Delete(root, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static async Task WaitForListener(IPEndPoint e)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            try
            {
                using var t = new TcpClient();
                await t.ConnectAsync(e, TestContext.Current.CancellationToken);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }
        }
    }
}

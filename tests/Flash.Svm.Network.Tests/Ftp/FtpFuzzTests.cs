using System.Net;
using System.Net.Sockets;
using System.Text;
using Flash.Svm.Network.Ftp;

namespace Flash.Svm.Network.Tests.Ftp;

/// <summary>Ten thousand mutated FTP command lines: the server answers each, keeps serving, and flash does not change.</summary>
public sealed class FtpFuzzTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ten_thousand_mutated_command_lines_leave_the_server_serving()
    {
        using var node = new NetworkNode();
        await using var server = new FtpServer(node.Store, new FtpServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Accounts = [new FtpAccount("operator", "secret")],
            DataTimeout = TimeSpan.FromMilliseconds(20),
            LoginFailureDelay = TimeSpan.Zero,
        });
        server.Start();
        var before = node.Mutations();
        string after = Path.Combine(Path.GetTempPath(), "flash-ftp-fuzz-" + Guid.NewGuid().ToString("N"));
        string[] seeds = ["USER operator", "PASS secret", "PASV", "EPSV", "SIZE boot.bin", "MDTM traffic-app.bin", "REST 100", "RETR boot.bin", "LIST", "CWD /", "TYPE I", "STOR x", "EPSV ALL", "PORT 127,0,0,1,4,1", "NOOP", "FEAT"];
        var rng = new Random(959);
        int sent = 0;
        while (sent < Fuzz.Count)
        {
            using var c = new TcpClient();
            await c.ConnectAsync(server.LocalEndPoint, Ct);
            var s = c.GetStream();
            var drain = Task.Run(async () =>
            {
                var b = new byte[65536];
                try
                {
                    while (await s.ReadAsync(b, Ct) > 0)
                    {
                    }
                }
                catch (IOException)
                {
                }
            }, Ct);
            var batch = new StringBuilder("USER operator\r\nPASS secret\r\n");
            for (int i = 0; i < 1000 && sent < Fuzz.Count; i++, sent++)
            {
                var line = Fuzz.Mutate(rng, Encoding.ASCII.GetBytes(seeds[rng.Next(seeds.Length)]));
                batch.Append(Encoding.Latin1.GetString(line.Where(b => b is not (0x0a or 0x0d)).ToArray())).Append("\r\n");
            }

            try
            {
                await s.WriteAsync(Encoding.Latin1.GetBytes(batch.Append("QUIT\r\n").ToString()), Ct);
            }
            catch (IOException)
            {
                // The server may have closed the session (a mutated QUIT); the next batch uses a new one.
            }

            using var bound = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            await drain.WaitAsync(TimeSpan.FromSeconds(60), Ct);
        }

        var curl = ExternalTools.Require("curl");
        var (exit, output) = await ExternalTools.RunAsync(curl, ["-sS", "--max-time", "20", "-o", after, $"ftp://operator:secret@127.0.0.1:{server.LocalEndPoint.Port}/boot.bin"], Limit);
        Assert.True(exit == 0, output);
        Assert.Equal(NetworkNode.Expected("boot.bin"), await File.ReadAllBytesAsync(after, Ct));
        File.Delete(after);
        Assert.Equal(before, node.Mutations());
    }
}

using System.Net;
using System.Net.Sockets;
using Flash.Svm.Network.Tftp;

namespace Flash.Svm.Network.Tests.Tftp;

/// <summary>Ten thousand mutated TFTP packets: the server answers or drops them, keeps serving, and flash does not change.</summary>
public sealed class TftpFuzzTests
{
    [Fact]
    public async Task Mutated_packets_leave_the_server_serving_and_flash_unchanged()
    {
        var ct = TestContext.Current.CancellationToken;
        using var node = new NetworkNode();
        await using var server = new TftpServer(node.Store, new TftpServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Plan = NetworkNode.LoopbackPlan,
            RetransmitTimeout = TimeSpan.FromMilliseconds(50),
            MaxRetransmissions = 1,
            MaxTransfers = 16,
        });
        server.Start();
        var before = node.Mutations();
        byte[][] seeds =
        [
            TftpServerTests.Rrq("boot.bin"),
            TftpServerTests.Rrq("traffic-app.bin", "octet", "blksize", "1468", "windowsize", "8", "tsize", "0", "timeout", "1"),
            TftpServerTests.Rrq("xc-app.bin", "netascii"),
            [0, 2, (byte)'a', 0, (byte)'o', (byte)'c', (byte)'t', (byte)'e', (byte)'t', 0],
            [0, 4, 0, 1],
            [0, 3, 0, 1, 1, 2, 3],
            [0, 5, 0, 1, (byte)'x', 0],
            [0, 6, (byte)'b', 0, (byte)'1', 0],
        ];
        var rng = new Random(20);
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        s.ReceiveBufferSize = 1 << 20;
        int sent = 0;
        for (int i = 0; i < Fuzz.Count; i++)
        {
            var packet = Fuzz.Mutate(rng, seeds[rng.Next(seeds.Length)]);
            await s.SendToAsync(packet, SocketFlags.None, server.LocalEndPoint, ct);
            sent++;
            if (i % 500 == 499)
            {
                await Task.Delay(5, ct);   // let the receive loop keep up; replies are not read
            }
        }

        Assert.Equal(Fuzz.Count, sent);
        for (int i = 0; i < 300 && server.ActiveTransfers > 0; i++)
        {
            await Task.Delay(20, ct);
        }

        // A well-behaved module is still served correctly.
        using var ms = new MemoryStream();
        var r = await TftpClient.FetchAsync(server.LocalEndPoint, "traffic-fpga.bit", ms, new TftpClientOptions { LocalAddress = IPAddress.Parse("127.0.0.2"), BlockSize = 1024, WindowSize = 4 }, ct);
        Assert.True(r.Ok, r.Message);
        Assert.Equal(NetworkNode.Expected("traffic-fpga.bit"), ms.ToArray());
        Assert.Equal(before, node.Mutations());
        var st = server.Statistics;
        Assert.True(st.Refused + st.Dropped + st.Started > 0);
    }

    [Fact]
    public async Task Mutated_packets_on_a_transfer_port_do_not_break_the_transfer_or_the_server()
    {
        var ct = TestContext.Current.CancellationToken;
        using var node = new NetworkNode();
        await using var server = new TftpServer(node.Store, new TftpServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Plan = NetworkNode.LoopbackPlan,
            RetransmitTimeout = TimeSpan.FromMilliseconds(100),
            MaxRetransmissions = 2,
        });
        server.Start();
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        s.ReceiveBufferSize = 1 << 20;
        await s.SendToAsync(TftpServerTests.Rrq("big.bin", "octet", "blksize", "8"), SocketFlags.None, server.LocalEndPoint, ct);
        var buf = new byte[2048];
        using var first = CancellationTokenSource.CreateLinkedTokenSource(ct);
        first.CancelAfter(TimeSpan.FromSeconds(5));
        var r = await s.ReceiveFromAsync(buf, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), first.Token);
        var peer = (IPEndPoint)r.RemoteEndPoint;
        var rng = new Random(7440);
        byte[][] seeds = [[0, 4, 0, 0], [0, 4, 0, 1], [0, 5, 0, 0, (byte)'x', 0], [0, 3, 0, 1, 9, 9], [0, 6, 0]];
        for (int i = 0; i < Fuzz.Count; i++)
        {
            await s.SendToAsync(Fuzz.Mutate(rng, seeds[rng.Next(seeds.Length)]), SocketFlags.None, peer, ct);
        }

        for (int i = 0; i < 300 && server.ActiveTransfers > 0; i++)
        {
            await Task.Delay(20, ct);
        }

        Assert.Equal(0, server.ActiveTransfers);
        using var ms = new MemoryStream();
        var fetch = await TftpClient.FetchAsync(server.LocalEndPoint, "traffic-fpga.bit", ms, new TftpClientOptions { LocalAddress = IPAddress.Parse("127.0.0.2") }, ct);
        Assert.True(fetch.Ok, fetch.Message);
        Assert.Equal(NetworkNode.Expected("traffic-fpga.bit"), ms.ToArray());
    }
}

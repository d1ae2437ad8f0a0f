using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flash.Svm.Network.Tftp;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Tests.Tftp;

/// <summary>The TFTP server against the library client and hand-made packets: healing, loss, duplicates, many transfers.</summary>
public sealed class TftpServerTests : IAsyncLifetime
{
    private readonly NetworkNode _node = new();
    private TftpServer _server = null!;

    public ValueTask InitializeAsync()
    {
        _server = new TftpServer(_node.Store, new TftpServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Plan = NetworkNode.LoopbackPlan,
            RetransmitTimeout = TimeSpan.FromMilliseconds(200),
            MaxRetransmissions = 3,
        });
        _server.Start();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _node.Dispose();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(TftpFetchResult Result, byte[] Data)> FetchAsync(string file, TftpClientOptions? options = null)
    {
        using var ms = new MemoryStream();
        var r = await TftpClient.FetchAsync(_server.LocalEndPoint, file, ms, options ?? new TftpClientOptions { Timeout = TimeSpan.FromMilliseconds(300) }, Ct);
        return (r, ms.ToArray());
    }

    [Fact]
    public async Task A_component_corrupted_on_the_primary_aborts_the_transfer_and_heals_from_the_mirror()
    {
        var bad = NetworkNode.Expected("traffic-app.bin");
        bad[100_000] ^= 0x40;   // CRC-valid on flash, wrong against the SGC digest
        _node.TamperPrimary("components/traffic-app.bin", bad);
        var (first, data) = await FetchAsync("traffic-app.bin", new TftpClientOptions { BlockSize = 1024, Timeout = TimeSpan.FromMilliseconds(300) });
        Assert.Equal(TftpError.Undefined, first.Error);
        Assert.Contains("digest", first.Message, StringComparison.Ordinal);
        Assert.True(data.Length < bad.Length, "the client must not receive the whole corrupted image");
        await WaitIdleAsync();
        var (second, good) = await FetchAsync("traffic-app.bin");
        Assert.True(second.Ok, second.Message);
        Assert.Equal(NetworkNode.Expected("traffic-app.bin"), good);
        Assert.Equal(1, _server.Statistics.Aborted);
    }

    [Fact]
    public async Task Many_transfers_from_different_modules_run_at_once()
    {
        var tasks = new List<Task<(TftpFetchResult, byte[])>>();
        foreach (var (ip, file) in new[] { ("127.0.0.1", "traffic-app.bin"), ("127.0.0.2", "traffic-app.bin"), ("127.0.0.5", "xc-app.bin"), ("127.0.0.1", "boot.bin"), ("127.0.0.2", "traffic-fpga.bit"), ("127.0.0.5", "boot.bin") })
        {
            for (int k = 0; k < 3; k++)
            {
                var options = new TftpClientOptions { LocalAddress = IPAddress.Parse(ip), BlockSize = 512 << k, WindowSize = 1 << k, AskSize = true, Timeout = TimeSpan.FromMilliseconds(500) };
                tasks.Add(FetchAsync(file, options).ContinueWith(t => (t.Result.Result, t.Result.Data.Length == NetworkNode.Expected(file).Length && t.Result.Data.AsSpan().SequenceEqual(NetworkNode.Expected(file)) ? [] : t.Result.Data), Ct, TaskContinuationOptions.None, TaskScheduler.Default));
            }
        }

        var results = await Task.WhenAll(tasks);
        foreach (var (r, mismatch) in results)
        {
            Assert.True(r.Ok, r.Message);
            Assert.Empty(mismatch);
        }

        await WaitIdleAsync();
        Assert.Equal(18, _server.Statistics.Completed);
    }

    [Fact]
    public async Task Lost_acks_are_recovered_by_retransmission_and_duplicate_acks_get_no_data()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await s.SendToAsync(Rrq("boot.bin"), SocketFlags.None, _server.LocalEndPoint, Ct);
        var buf = new byte[2048];
        var (n, peer) = await ReceiveAsync(s, buf);
        Assert.Equal(1, Block(buf, n));

        // Do not ACK: the server retransmits block 1 after its timeout.
        var (n2, _) = await ReceiveAsync(s, buf);
        Assert.Equal(1, Block(buf, n2));
        await s.SendToAsync(Ack(1), SocketFlags.None, peer, Ct);
        var (n3, _) = await ReceiveAsync(s, buf);
        Assert.Equal(2, Block(buf, n3));

        // A duplicate ACK 1: no second copy of block 2 before the timeout (the sorcerer's apprentice syndrome).
        await s.SendToAsync(Ack(1), SocketFlags.None, peer, Ct);
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        quiet.CancelAfter(TimeSpan.FromMilliseconds(120));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await s.ReceiveFromAsync(buf, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), quiet.Token));

        // Silence: after MaxRetransmissions the transfer is dropped and the server keeps serving others.
        await WaitIdleAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(0, _server.ActiveTransfers);
        Assert.Equal(1, _server.Statistics.Aborted);
        var (r, data) = await FetchAsync("boot.bin");
        Assert.True(r.Ok, r.Message);
        Assert.Equal(NetworkNode.Expected("boot.bin"), data);
    }

    [Fact]
    public async Task Block_numbers_roll_over_past_65535()
    {
        // 70,001 blocks of 8 bytes (traffic@2's big.bin): block 65,535 is followed by block 0.
        var (r, data) = await FetchAsync("big.bin", new TftpClientOptions { LocalAddress = IPAddress.Parse("127.0.0.2"), BlockSize = 8, WindowSize = 32, Timeout = TimeSpan.FromSeconds(1) });
        Assert.True(r.Ok, r.Message);
        Assert.Equal(NetworkNode.Expected("big.bin"), data);
    }

    [Theory]
    [InlineData("blksize", "7", 512)]
    [InlineData("blksize", "65465", 512)]
    [InlineData("blksize", "65464", 8192)]
    [InlineData("blksize", "-5", 512)]
    [InlineData("blksize", "99999999999999999999", 512)]
    [InlineData("windowsize", "0", 512)]
    [InlineData("windowsize", "70000", 512)]
    [InlineData("frobnicate", "1", 512)]
    public void Absurd_or_unknown_options_are_ignored_or_lowered(string name, string value, int block)
    {
        var p = TftpNegotiation.Negotiate([new(name, value)], 1000, new TftpLimits());
        Assert.Equal(block, p.BlockSize);
        Assert.InRange(p.WindowSize, 1, 32);
        Assert.True(p.BlockSize * p.WindowSize <= new TftpLimits().MaxWindowBytes);
        Assert.All(p.Accepted, kv => Assert.Contains(kv.Key, new[] { "blksize", "windowsize" }));
    }

    [Fact]
    public async Task A_module_outside_the_plan_and_a_netascii_request_are_refused()
    {
        using var ms = new MemoryStream();
        var r = await TftpClient.FetchAsync(_server.LocalEndPoint, "boot.bin", ms, new TftpClientOptions { LocalAddress = IPAddress.Parse("127.0.0.9") }, Ct);
        Assert.Equal(TftpError.AccessViolation, r.Error);

        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await s.SendToAsync(Rrq("boot.bin", "netascii"), SocketFlags.None, _server.LocalEndPoint, Ct);
        var buf = new byte[600];
        var (n, _) = await ReceiveAsync(s, buf);
        Assert.True(TftpPacket.TryParseError(buf.AsSpan(0, n), out var code, out _));
        Assert.Equal(TftpError.IllegalOperation, code);
    }

    internal static byte[] Rrq(string file, string mode = "octet", params string[] options)
    {
        var ms = new MemoryStream();
        ms.Write([0, 1]);
        foreach (var f in new[] { file, mode }.Concat(options))
        {
            ms.Write(Encoding.ASCII.GetBytes(f));
            ms.WriteByte(0);
        }

        return ms.ToArray();
    }

    private static byte[] Ack(ushort block)
    {
        var b = new byte[4];
        TftpPacket.WriteAck(b, block);
        return b;
    }

    private static int Block(byte[] buf, int n)
    {
        Assert.True(n >= 4);
        Assert.Equal(TftpOpcode.Data, TftpPacket.OpcodeOf(buf));
        return BinaryPrimitives.ReadUInt16BigEndian(buf.AsSpan(2));
    }

    private static async Task<(int, IPEndPoint)> ReceiveAsync(Socket s, byte[] buf)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(5));
        var r = await s.ReceiveFromAsync(buf, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
        return (r.ReceivedBytes, (IPEndPoint)r.RemoteEndPoint);
    }

    private async Task WaitIdleAsync(TimeSpan? limit = null)
    {
        var end = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(2));
        while (_server.ActiveTransfers > 0 && DateTime.UtcNow < end)
        {
            await Task.Delay(10, Ct);
        }
    }
}

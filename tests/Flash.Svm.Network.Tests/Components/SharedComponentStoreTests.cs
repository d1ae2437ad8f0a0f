using System.Net;
using Flash.Svm.Network.Components;
using Flash.Svm.Network.Tftp;

namespace Flash.Svm.Network.Tests.Components;

/// <summary>The shared read store: one flash read per segment for concurrent transfers, bounded memory, no stale content.</summary>
public sealed class SharedComponentStoreTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_transfers_of_one_component_read_each_segment_from_flash_once()
    {
        using var node = new NetworkNode();
        var shared = new SharedComponentStore(node.Store, segmentSize: 16 * 1024, capacity: 1024 * 1024);
        await using var server = new TftpServer(shared, new TftpServerOptions { Endpoint = new IPEndPoint(IPAddress.Loopback, 0), Plan = NetworkNode.LoopbackPlan });
        server.Start();
        var fetches = Enumerable.Range(0, 6).Select(async i =>
        {
            using var ms = new MemoryStream();
            var r = await TftpClient.FetchAsync(server.LocalEndPoint, "traffic-app.bin", ms, new TftpClientOptions { LocalAddress = IPAddress.Parse(i % 2 == 0 ? "127.0.0.1" : "127.0.0.2"), BlockSize = 1024 + (i * 100), WindowSize = 1 + i }, Ct);
            return (r, ms.ToArray());
        });
        foreach (var (r, data) in await Task.WhenAll(fetches))
        {
            Assert.True(r.Ok, r.Message);
            Assert.Equal(NetworkNode.Expected("traffic-app.bin"), data);
        }

        Assert.Equal((150_001 + (16 * 1024) - 1) / (16 * 1024), shared.Counters.InnerReads);
    }

    [Fact]
    public async Task Memory_stays_within_the_capacity_and_a_heal_drops_the_component()
    {
        using var node = new NetworkNode();
        var shared = new SharedComponentStore(node.Store, segmentSize: 4096, capacity: 16 * 1024);
        var sgc = await shared.SgcAsync(Ct);
        var c = sgc.Find("traffic-app.bin")!;
        var buffer = new byte[c.Size];
        Assert.Equal(c.Size, await shared.ReadAsync(c, 0, buffer, Ct));
        Assert.True(c.Matches(buffer));
        long first = shared.Counters.InnerReads;
        Assert.Equal((c.Size + 4095) / 4096, first);

        // Only the last four segments are still cached: re-reading the start goes to flash again.
        await shared.ReadAsync(c, 0, buffer.AsMemory(0, 4096), Ct);
        Assert.Equal(first + 1, shared.Counters.InnerReads);
        await shared.ReadAsync(c, 0, buffer.AsMemory(0, 4096), Ct);
        Assert.Equal(first + 1, shared.Counters.InnerReads);

        Assert.False(await shared.HealAsync(c, Ct)); // nothing to repair: the secondary's copy is not needed
        await shared.ReadAsync(c, 0, buffer.AsMemory(0, 4096), Ct);
        Assert.Equal(first + 2, shared.Counters.InnerReads);
    }
}

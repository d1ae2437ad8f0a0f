using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>A connection reset and a stalled server between the node and a real nginx; each download resumes.</summary>
public sealed class InterruptionTests(NginxFixture fixture) : IClassFixture<NginxFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private NginxServer Server
    {
        get
        {
            if (fixture.Server is null)
            {
                Assert.Skip(fixture.SkipReason);
            }

            return fixture.Server;
        }
    }

    [Theory]
    [InlineData(ProxyFault.Reset)]
    [InlineData(ProxyFault.Stall)]
    public async Task BrokenFirstConnection_IsResumedByTheNextAttempt(ProxyFault fault)
    {
        var content = Content.Random(800_000, fault == ProxyFault.Reset ? 51 : 52);
        var name = $"fault-{fault}.pkg";
        File.WriteAllBytes(Path.Combine(Server.Files, name), content);
        using var proxy = new FaultyProxy(Server.Port, 250_000, fault);
        var logger = new ListLogger();
        var options = new TransferOptions
        {
            TrustedRoots = [Server.Ca.Root],
            IdleTimeout = TimeSpan.FromSeconds(1), // the stall must end the first attempt quickly
            RetryDelay = TimeSpan.FromMilliseconds(100),
        };
        using var client = new HttpPackageDownloader(options, logger);
        var sink = new MemoryDownloadSink();

        await new ResumingDownload([client], options, logger).RunAsync(
            TransferUrl.Parse($"https://127.0.0.1:{proxy.Port}/files/{name}"), null, 4 << 20, sink, Ct);

        Assert.Equal(content, sink.ToArray());
        Assert.Equal(1, sink.Resumes);
        Assert.Equal(0, sink.Restarts);
        Assert.True(proxy.Connections >= 2);
        Assert.Contains(logger.Lines, l => l.StartsWith("3203 ", StringComparison.Ordinal));
    }
}

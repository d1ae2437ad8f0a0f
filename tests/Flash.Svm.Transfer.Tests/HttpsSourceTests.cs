using Flash.Svm.Packages;
using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>Shares one nginx (HTTPS, private CA) among the tests of <see cref="HttpsSourceTests"/>.</summary>
public sealed class NginxFixture : IDisposable
{
    public NginxFixture()
    {
        Server = NginxServer.TryStart(out var reason);
        SkipReason = reason;
    }

    internal NginxServer? Server { get; }

    internal string SkipReason { get; }

    public void Dispose() => Server?.Dispose();
}

/// <summary>HTTP(S) downloads against a real nginx on loopback: trust, Range/If-Range resume, interruptions, bad input.</summary>
public sealed class HttpsSourceTests(NginxFixture fixture) : IClassFixture<NginxFixture>
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

    private HttpPackageDownloader Trusting(ListLogger? logger = null) =>
        new(new TransferOptions { TrustedRoots = [Server.Ca.Root], IdleTimeout = TimeSpan.FromSeconds(10) }, logger);

    private byte[] Publish(string name, int size, int seed)
    {
        var content = Content.Random(size, seed);
        File.WriteAllBytes(Path.Combine(Server.Files, name), content);
        return content;
    }

    [Fact]
    public async Task Download_OverHttpsWithTheTestCa_ReturnsTheExactBytes()
    {
        var content = Publish("whole.pkg", 300_000, 1);
        using var client = Trusting();
        var sink = new MemoryDownloadSink();

        await client.DownloadAsync(TransferUrl.Parse(Server.Url("files", "whole.pkg").ToString()), null, 1 << 20, sink, Ct);

        Assert.Equal(content, sink.ToArray());
        Assert.NotNull(sink.Validator);
    }

    [Fact]
    public async Task UntrustedCertificate_IsATrustErrorAndNothingIsReceived()
    {
        Publish("trust.pkg", 1000, 2);
        var url = TransferUrl.Parse(Server.Url("files", "trust.pkg").ToString());
        var otherCa = TestCa.Create(Path.Combine(Server.Root, "other-pki"), "other");
        using var systemStore = new HttpPackageDownloader();
        using var wrongRoot = new HttpPackageDownloader(new TransferOptions { TrustedRoots = [otherCa.Root] });

        foreach (var client in new[] { systemStore, wrongRoot })
        {
            var sink = new MemoryDownloadSink();
            await Assert.ThrowsAsync<TransferTrustException>(() => client.DownloadAsync(url, null, 1 << 20, sink, Ct));
            Assert.Equal(0, sink.Length);
        }
    }

    [Fact]
    public async Task ServerStoppedMidTransfer_ResumesWithRangeFromTheHeldBytes()
    {
        var content = Publish("stop.pkg", 1 << 20, 3);
        var url = TransferUrl.Parse(Server.Url("slow", "stop.pkg").ToString());
        using var client = Trusting();
        var sink = new TrippingSink(200_000, Server.Kill);

        await Assert.ThrowsAsync<TransferInterruptedException>(() => client.DownloadAsync(url, null, 4 << 20, sink, Ct));
        var held = sink.Length;
        Assert.InRange(held, 200_000, content.Length - 1);
        Assert.Equal(content.AsSpan(0, (int)held).ToArray(), sink.Inner.ToArray());

        Server.Start();
        await client.DownloadAsync(url, null, 4 << 20, sink, Ct);

        Assert.Equal(content, sink.Inner.ToArray());
        Assert.Equal(1, sink.Inner.Resumes);
        Assert.Equal(0, sink.Inner.Restarts);
        // nginx writes the access line when it finalises the request, which can be just after the client's last byte.
        Assert.True(SpinWait.SpinUntil(() => Server.AccessLog.Contains("/slow/stop.pkg HTTP/1.1\" 206 ", StringComparison.Ordinal), 5000), Server.AccessLog);
    }

    [Fact]
    public async Task FileReplacedOnTheServer_IfRangeRestartsFromZero()
    {
        Publish("changed.pkg", 600_000, 4);
        var url = TransferUrl.Parse(Server.Url("slow", "changed.pkg").ToString());
        using var client = Trusting();
        var sink = new TrippingSink(100_000, Server.Kill);
        await Assert.ThrowsAsync<TransferInterruptedException>(() => client.DownloadAsync(url, null, 4 << 20, sink, Ct));

        var replacement = Publish("changed.pkg", 600_000, 5);
        File.SetLastWriteTimeUtc(Path.Combine(Server.Files, "changed.pkg"), DateTime.UtcNow.AddMinutes(1));
        Server.Start();
        await client.DownloadAsync(TransferUrl.Parse(Server.Url("files", "changed.pkg").ToString()), null, 4 << 20, sink, Ct);

        Assert.Equal(replacement, sink.Inner.ToArray());
        Assert.Equal(1, sink.Inner.Restarts);
    }

    [Fact]
    public async Task ResumingDownload_SurvivesAServerRestartDuringTheTransfer()
    {
        var content = Publish("restart.pkg", 900_000, 6);
        var url = TransferUrl.Parse(Server.Url("slow", "restart.pkg").ToString());
        var logger = new ListLogger();
        var options = new TransferOptions { TrustedRoots = [Server.Ca.Root], RetryDelay = TimeSpan.FromMilliseconds(300), MaxAttempts = 10 };
        using var client = new HttpPackageDownloader(options, logger);
        var download = new ResumingDownload([client], options, logger);
        var sink = new TrippingSink(300_000, () => { Server.Kill(); _ = Task.Delay(500, Ct).ContinueWith(_ => Server.Start(), Ct, TaskContinuationOptions.None, TaskScheduler.Default); });

        await download.RunAsync(url, null, 4 << 20, sink, Ct);

        Assert.Equal(content, sink.Inner.ToArray());
        Assert.Equal(1, sink.Inner.Resumes);
        Assert.Contains(logger.Lines, l => l.StartsWith("3201 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Credentials_AreSentAndNeverLoggedOrThrown()
    {
        var content = Publish("auth.pkg", 5000, 7);
        var url = TransferUrl.Parse(Server.Url("private", "auth.pkg").ToString());
        var logger = new ListLogger();
        using var client = Trusting(logger);

        var sink = new MemoryDownloadSink();
        await client.DownloadAsync(url, new TransferCredentials(NginxServer.User, NginxServer.Password), 1 << 20, sink, Ct);
        Assert.Equal(content, sink.ToArray());

        var wrong = new TransferCredentials(NginxServer.User, "wrong-Secret-9");
        var e = await Assert.ThrowsAsync<TransferAuthenticationException>(() => client.DownloadAsync(url, wrong, 1 << 20, new MemoryDownloadSink(), Ct));
        await Assert.ThrowsAsync<TransferAuthenticationException>(() => client.DownloadAsync(url, null, 1 << 20, new MemoryDownloadSink(), Ct));

        foreach (var text in logger.Lines.Append(e.Message).Append(e.ToString()))
        {
            Assert.DoesNotContain(NginxServer.Password, text, StringComparison.Ordinal);
            Assert.DoesNotContain("wrong-Secret-9", text, StringComparison.Ordinal);
            Assert.DoesNotContain(NginxServer.User, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OversizedAndMissingFiles_AreSpecificErrorsBeforeAnyByte()
    {
        Publish("big.pkg", 200_000, 8);
        using var client = Trusting();
        var sink = new MemoryDownloadSink();

        var e = await Assert.ThrowsAsync<PackageRejectedException>(() =>
            client.DownloadAsync(TransferUrl.Parse(Server.Url("files", "big.pkg").ToString()), null, 100_000, sink, Ct));
        Assert.Equal(PackageRejectReason.Oversized, e.Reason);
        await Assert.ThrowsAsync<TransferNotFoundException>(() =>
            client.DownloadAsync(TransferUrl.Parse(Server.Url("files", "none.pkg").ToString()), null, 100_000, sink, Ct));
        Assert.Equal(0, sink.Length);
    }

    [Fact]
    public async Task NetworkSoftwareSource_ServesTheSvmTransferParameters()
    {
        var content = Publish("svm.pkg", 70_000, 9);
        var (sources, owner) = NetworkSoftwareSource.CreateAll(new TransferOptions { TrustedRoots = [Server.Ca.Root] });
        using (owner)
        {
            var https = (IAsyncStreamingSoftwareSource)sources.Single(s => s.Kind == "https");
            var parameters = new TransferParameters("https", Server.Url("private", "svm.pkg").ToString(), NginxServer.User, NginxServer.Password);

            Assert.Equal(content, await https.FetchAsync(parameters, 1 << 20, Ct));
            Assert.DoesNotContain(NginxServer.Password, parameters.ToString(), StringComparison.Ordinal);
            await Assert.ThrowsAsync<TransferUrlException>(() => ((IAsyncStreamingSoftwareSource)sources.Single(s => s.Kind == "ftp")).FetchAsync(parameters, 1 << 20, Ct));
        }
    }
}

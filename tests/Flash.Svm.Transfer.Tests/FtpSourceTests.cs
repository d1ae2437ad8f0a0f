using Flash.Svm.Packages;
using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>Shares one vsftpd among the tests of <see cref="FtpSourceTests"/>.</summary>
public sealed class VsftpdFixture : IDisposable
{
    public VsftpdFixture()
    {
        Server = VsftpdServer.TryStart(out var reason);
        SkipReason = reason;
    }

    internal VsftpdServer? Server { get; }

    internal string SkipReason { get; }

    public void Dispose() => Server?.Dispose();
}

/// <summary>FTP downloads against a real vsftpd on loopback: passive binary transfer, REST resume, interruptions.</summary>
public sealed class FtpSourceTests(VsftpdFixture fixture) : IClassFixture<VsftpdFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private VsftpdServer Server
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

    private static FtpPackageDownloader Client(ListLogger? logger = null) =>
        new(new TransferOptions { IdleTimeout = TimeSpan.FromSeconds(10) }, logger);

    private byte[] Publish(string name, int size, int seed)
    {
        var content = Content.Random(size, seed);
        Server.Put(name, content);
        return content;
    }

    [Fact]
    public async Task Download_InBinaryPassiveMode_ReturnsTheExactBytes()
    {
        var content = Publish("whole.pkg", 250_000, 11);
        var sink = new MemoryDownloadSink();

        await Client().DownloadAsync(TransferUrl.Parse(Server.Url("whole.pkg")), null, 1 << 20, sink, Ct);

        Assert.Equal(content, sink.ToArray());
        Assert.NotNull(sink.Validator);
    }

    [Fact]
    public async Task ServerStoppedMidTransfer_ResumesWithRest()
    {
        var content = Publish("stop.pkg", 3 << 20, 12);
        var url = TransferUrl.Parse(Server.Url("stop.pkg"));
        var logger = new ListLogger();
        var sink = new TrippingSink(400_000, Server.Kill);

        await Assert.ThrowsAsync<TransferInterruptedException>(() => Client(logger).DownloadAsync(url, null, 8 << 20, sink, Ct));
        var held = sink.Length;
        Assert.InRange(held, 400_000, content.Length - 1);

        Server.Start();
        await Client(logger).DownloadAsync(url, null, 8 << 20, sink, Ct);

        Assert.Equal(content, sink.Inner.ToArray());
        Assert.Equal(1, sink.Inner.Resumes);
        Assert.Contains(logger.Lines, l => l.StartsWith("3201 ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task FileReplacedOnTheServer_RestartsFromZero()
    {
        Publish("changed.pkg", 2 << 20, 13);
        var url = TransferUrl.Parse(Server.Url("changed.pkg"));
        var sink = new TrippingSink(300_000, Server.Kill);
        await Assert.ThrowsAsync<TransferInterruptedException>(() => Client().DownloadAsync(url, null, 8 << 20, sink, Ct));

        var replacement = Publish("changed.pkg", 200_000, 14);
        Server.Start();
        await Client().DownloadAsync(url, null, 8 << 20, sink, Ct);

        Assert.Equal(replacement, sink.Inner.ToArray());
        Assert.Equal(1, sink.Inner.Restarts);
    }

    [Fact]
    public async Task RefusedLogin_IsAnAuthenticationErrorWithoutTheSecrets()
    {
        Publish("auth.pkg", 1000, 15);
        var logger = new ListLogger();
        var credentials = new TransferCredentials("maint-user", "Ftp-Secret-1");

        var e = await Assert.ThrowsAsync<TransferAuthenticationException>(() =>
            Client(logger).DownloadAsync(TransferUrl.Parse(Server.Url("auth.pkg")), credentials, 1 << 20, new MemoryDownloadSink(), Ct));

        foreach (var text in logger.Lines.Append(e.ToString()))
        {
            Assert.DoesNotContain("Ftp-Secret-1", text, StringComparison.Ordinal);
            Assert.DoesNotContain("maint-user", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OversizedAndMissingFiles_AreSpecificErrorsBeforeAnyByte()
    {
        Publish("big.pkg", 200_000, 16);
        var sink = new MemoryDownloadSink();

        var e = await Assert.ThrowsAsync<PackageRejectedException>(() =>
            Client().DownloadAsync(TransferUrl.Parse(Server.Url("big.pkg")), null, 100_000, sink, Ct));
        Assert.Equal(PackageRejectReason.Oversized, e.Reason);
        await Assert.ThrowsAsync<TransferNotFoundException>(() =>
            Client().DownloadAsync(TransferUrl.Parse(Server.Url("none.pkg")), null, 100_000, sink, Ct));
        Assert.Equal(0, sink.Length);
    }

    [Fact]
    public async Task NetworkSoftwareSource_FetchesOverFtp()
    {
        var content = Publish("svm.pkg", 64_000, 17);
        var (sources, owner) = NetworkSoftwareSource.CreateAll();
        using (owner)
        {
            var ftp = (IAsyncStreamingSoftwareSource)sources.Single(s => s.Kind == "ftp");
            Assert.Equal(content, await ftp.FetchAsync(new TransferParameters("ftp", Server.Url("svm.pkg")), 1 << 20, Ct));
        }
    }
}

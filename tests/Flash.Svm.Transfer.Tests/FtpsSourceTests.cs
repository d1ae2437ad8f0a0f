using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>Shares one vsftpd with explicit TLS among the tests of <see cref="FtpsSourceTests"/>.</summary>
public sealed class FtpsFixture : IDisposable
{
    public FtpsFixture()
    {
        Server = VsftpdServer.TryStart(out var reason, tls: true);
        SkipReason = reason;
    }

    internal VsftpdServer? Server { get; }

    internal string SkipReason { get; }

    public void Dispose() => Server?.Dispose();
}

/// <summary>Explicit FTPS (AUTH TLS, PROT P) against a real vsftpd with a certificate from a test CA.</summary>
public sealed class FtpsSourceTests(FtpsFixture fixture) : IClassFixture<FtpsFixture>
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

    private FtpPackageDownloader Trusting() =>
        new(new TransferOptions { TrustedRoots = [Server.Ca!.Root], IdleTimeout = TimeSpan.FromSeconds(10) });

    [Fact]
    public async Task Download_OverExplicitTls_ReturnsTheExactBytes()
    {
        var content = Content.Random(300_000, 31);
        Server.Put("whole.pkg", content);
        var sink = new MemoryDownloadSink();

        await Trusting().DownloadAsync(TransferUrl.Parse(Server.Url("whole.pkg")), null, 1 << 20, sink, Ct);

        Assert.Equal(content, sink.ToArray());
    }

    [Fact]
    public async Task UntrustedCertificate_IsATrustErrorBeforeLogin()
    {
        Server.Put("trust.pkg", Content.Random(1000, 32));
        var sink = new MemoryDownloadSink();

        await Assert.ThrowsAsync<TransferTrustException>(() =>
            new FtpPackageDownloader().DownloadAsync(TransferUrl.Parse(Server.Url("trust.pkg")), null, 1 << 20, sink, Ct));
        Assert.Equal(0, sink.Length);
    }

    [Fact]
    public async Task ServerStoppedMidTransfer_ResumesWithRestOverTls()
    {
        var content = Content.Random(2 << 20, 33);
        Server.Put("stop.pkg", content);
        var url = TransferUrl.Parse(Server.Url("stop.pkg"));
        var sink = new TrippingSink(300_000, Server.Kill);

        await Assert.ThrowsAsync<TransferInterruptedException>(() => Trusting().DownloadAsync(url, null, 8 << 20, sink, Ct));
        Server.Start();
        await Trusting().DownloadAsync(url, null, 8 << 20, sink, Ct);

        Assert.Equal(content, sink.Inner.ToArray());
        Assert.Equal(1, sink.Inner.Resumes);
    }
}

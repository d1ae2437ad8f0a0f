using Flash.Svm.Packages;
using Flash.Svm.Transfer.Tests.Servers;

namespace Flash.Svm.Transfer.Tests;

/// <summary>Shares one sshd among the tests of <see cref="SftpSourceTests"/>.</summary>
public sealed class SshdFixture : IDisposable
{
    public SshdFixture()
    {
        Server = SshdServer.TryStart(out var reason);
        SkipReason = reason;
    }

    internal SshdServer? Server { get; }

    internal string SkipReason { get; }

    public void Dispose() => Server?.Dispose();
}

/// <summary>SFTP downloads against a real OpenSSH sshd on loopback: host key pinning, resume, bad input.</summary>
public sealed class SftpSourceTests(SshdFixture fixture) : IClassFixture<SshdFixture>
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private SshdServer Server
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

    private TransferOptions Options(string? pin = null) => new()
    {
        PinnedHostKeys = new Dictionary<string, string> { [$"127.0.0.1:{Server.Port}"] = pin ?? Server.HostKeyPin },
        SshPrivateKey = Server.ClientKey,
        IdleTimeout = TimeSpan.FromSeconds(10),
    };

    private static readonly TransferCredentials Root = new("root", "");

    private byte[] Publish(string name, int size, int seed)
    {
        var content = Content.Random(size, seed);
        File.WriteAllBytes(Path.Combine(Server.Files, name), content);
        return content;
    }

    [Fact]
    public async Task Download_WithThePinnedHostKey_ReturnsTheExactBytes()
    {
        var content = Publish("whole.pkg", 400_000, 21);
        var sink = new MemoryDownloadSink();

        await new SftpPackageDownloader(Options()).DownloadAsync(TransferUrl.Parse(Server.Url("whole.pkg")), Root, 1 << 20, sink, Ct);

        Assert.Equal(content, sink.ToArray());
    }

    [Fact]
    public async Task WrongOrMissingHostKeyPin_IsATrustErrorAndNothingIsReceived()
    {
        Publish("trust.pkg", 1000, 22);
        var url = TransferUrl.Parse(Server.Url("trust.pkg"));
        var sink = new MemoryDownloadSink();

        await Assert.ThrowsAsync<TransferTrustException>(() => new SftpPackageDownloader(Options(Server.OtherHostKeyPin)).DownloadAsync(url, Root, 1 << 20, sink, Ct));
        await Assert.ThrowsAsync<TransferTrustException>(() => new SftpPackageDownloader(new TransferOptions { SshPrivateKey = Server.ClientKey }).DownloadAsync(url, Root, 1 << 20, sink, Ct));
        Assert.Equal(0, sink.Length);
    }

    [Fact]
    public async Task InterruptedDownload_ResumesAtTheHeldLength()
    {
        var content = Publish("stop.pkg", 2 << 20, 23);
        var url = TransferUrl.Parse(Server.Url("stop.pkg"));
        var client = new SftpPackageDownloader(Options());
        var sink = new TrippingSink(300_000, Server.Kill);

        await Assert.ThrowsAsync<TransferInterruptedException>(() => client.DownloadAsync(url, Root, 8 << 20, sink, Ct));
        Assert.InRange(sink.Length, 300_000, content.Length - 1);

        Server.Start();
        await client.DownloadAsync(url, Root, 8 << 20, sink, Ct);

        Assert.Equal(content, sink.Inner.ToArray());
        Assert.Equal(1, sink.Inner.Resumes);
    }

    [Fact]
    public async Task RefusedPassword_IsAnAuthenticationErrorWithoutTheSecret()
    {
        Publish("auth.pkg", 1000, 24);
        var logger = new ListLogger();
        var options = Options() is var o ? new TransferOptions { PinnedHostKeys = o.PinnedHostKeys } : null;

        var e = await Assert.ThrowsAsync<TransferAuthenticationException>(() =>
            new SftpPackageDownloader(options, logger).DownloadAsync(TransferUrl.Parse(Server.Url("auth.pkg")), new TransferCredentials("root", "Ssh-Secret-7"), 1 << 20, new MemoryDownloadSink(), Ct));

        foreach (var text in logger.Lines.Append(e.ToString()))
        {
            Assert.DoesNotContain("Ssh-Secret-7", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task OversizedAndMissingFiles_AreSpecificErrors()
    {
        Publish("big.pkg", 200_000, 25);
        var sink = new MemoryDownloadSink();
        var client = new SftpPackageDownloader(Options());

        var e = await Assert.ThrowsAsync<PackageRejectedException>(() => client.DownloadAsync(TransferUrl.Parse(Server.Url("big.pkg")), Root, 100_000, sink, Ct));
        Assert.Equal(PackageRejectReason.Oversized, e.Reason);
        await Assert.ThrowsAsync<TransferNotFoundException>(() => client.DownloadAsync(TransferUrl.Parse(Server.Url("none.pkg")), Root, 100_000, sink, Ct));
        Assert.Equal(0, sink.Length);
    }

    [Fact]
    public void PinComparison_AcceptsOpenSshAndBareForms()
    {
        Assert.True(SftpPackageDownloader.Matches("SHA256:abcDEF0", "abcDEF0"));
        Assert.True(SftpPackageDownloader.Matches("abcDEF0=", "abcDEF0"));
        Assert.False(SftpPackageDownloader.Matches("SHA256:abcDEF0", "abcDEF1"));
    }
}

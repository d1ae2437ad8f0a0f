namespace Flash.Svm.Transfer.Tests;

public sealed class TransferUrlTests
{
    [Theory]
    [InlineData("ftp://host.example/pkg/r2.pkg", "ftp", "host.example", 21, "/pkg/r2.pkg")]
    [InlineData("https://192.0.2.7:8443/a%20b.pkg", "https", "192.0.2.7", 8443, "/a b.pkg")]
    [InlineData("HTTP://[2001:db8::1]/x.pkg", "http", "2001:db8::1", 80, "/x.pkg")]
    [InlineData("sftp://node-sw@198.51.100.4/srv/r2.pkg", "sftp", "198.51.100.4", 22, "/srv/r2.pkg")]
    public void Parse_ReadsSchemeHostPortAndPath(string text, string scheme, string host, int port, string path)
    {
        var url = TransferUrl.Parse(text);

        Assert.Equal(scheme, url.Scheme);
        Assert.Equal(host, url.Host);
        Assert.Equal(port, url.Port);
        Assert.Equal(path, url.Path);
    }

    [Fact]
    public void UserInUrl_IsKeptButNeverShown()
    {
        var url = TransferUrl.Parse("ftp://maint@10.0.0.1:2121/sw/r2.pkg");

        Assert.Equal("maint", url.User);
        Assert.Equal("ftp://10.0.0.1:2121/sw/r2.pkg", url.ToString());
        Assert.DoesNotContain("maint", url.ToRequestUri().ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void PasswordInUrl_IsRefusedWithoutRepeatingIt()
    {
        var e = Assert.Throws<TransferUrlException>(() => TransferUrl.Parse("ftp://maint:hunter2@10.0.0.1/r2.pkg"));

        Assert.DoesNotContain("hunter2", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("maint", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("gopher://host/x.pkg")]
    [InlineData("file:///etc/passwd")]
    [InlineData("ftp://host/")]
    [InlineData("ftp://host/dir/")]
    public void BadUrls_AreTransferUrlExceptions(string text) =>
        Assert.Throws<TransferUrlException>(() => TransferUrl.Parse(text));

    [Fact]
    public void Credentials_NeverFormatTheirSecrets()
    {
        var credentials = new TransferCredentials("maint", "hunter2");

        Assert.DoesNotContain("hunter2", credentials.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("maint", $"{credentials}", StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new TransferCredentials("maint", "a\r\nDELE x"));
    }

    [Fact]
    public void Scrub_RemovesUserAndPasswordFromForeignText() =>
        Assert.Equal("530 Login <redacted>/<redacted> refused",
            Redaction.Scrub("530 Login maint/hunter2 refused", new TransferCredentials("maint", "hunter2")));

    [Theory]
    [InlineData("Entering Extended Passive Mode (|||40123|)", 40123)]
    [InlineData("EPSV ok (!!!2121!)", 2121)]
    public void Epsv_ParsesThePort(string text, int port)
    {
        Assert.True(FtpPassiveReply.TryParseEpsv(text, out var parsed));
        Assert.Equal(port, parsed);
    }

    [Fact]
    public void Pasv_ParsesThePortAndIgnoresTheAddress()
    {
        Assert.True(FtpPassiveReply.TryParsePasv("Entering Passive Mode (198,51,100,9,156,64)", out var port));
        Assert.Equal((156 << 8) | 64, port);
        Assert.False(FtpPassiveReply.TryParsePasv("Entering Passive Mode (1,2,3)", out _));
        Assert.False(FtpPassiveReply.TryParseEpsv("Extended (|||x|)", out _));
    }

    [Fact]
    public void RetryPolicy_RetriesOnlyTransientFailuresWithinTheBudget()
    {
        var broken = new TransferInterruptedException("broken");

        Assert.Equal(RetryDecision.Retry, ResumingDownload.Next(broken, 1, 3));
        Assert.Equal(RetryDecision.GiveUp, ResumingDownload.Next(broken, 3, 3));
        Assert.Equal(RetryDecision.GiveUp, ResumingDownload.Next(new TransferTrustException("bad cert"), 1, 3));
        Assert.Equal(RetryDecision.GiveUp, ResumingDownload.Next(new TransferAuthenticationException("530"), 1, 3));
    }
}

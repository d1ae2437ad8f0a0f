using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Flash.Svm.Network.Ftp;

namespace Flash.Svm.Network.Tests.Ftp;

/// <summary>curl and lftp against the read-only FTP server on loopback.</summary>
public sealed class FtpRealClientTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly NetworkNode _node = new();
    private FtpServer _server = null!;
    private string _dir = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _server = new FtpServer(_node.Store, new FtpServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Accounts = [new FtpAccount("operator", "secret"), new FtpAccount("xc5", "pw5", NetworkNode.Xc)],
            AllowAnonymous = true,
            Plan = NetworkNode.LoopbackPlan,
            DataTimeout = TimeSpan.FromSeconds(5),
        });
        _server.Start();
        _dir = Tools.TempDir();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _node.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Url(string user, string path) => $"ftp://{user}@127.0.0.1:{_server.LocalEndPoint.Port}/{path}";

    private string Out(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("operator:secret", "traffic-app.bin", false)]
    [InlineData("operator:secret", "xc-app.bin", true)]   // PASV instead of EPSV
    [InlineData("xc5:pw5", "xc-app.bin", false)]
    [InlineData("anonymous:x", "traffic-fpga.bit", false)] // anonymous from 127.0.0.1 = traffic@1
    [InlineData("operator:secret", "empty.cfg", false)]
    public async Task Curl_retrieves_components_in_passive_mode(string user, string file, bool noEpsv)
    {
        var curl = ExternalTools.Require("curl");
        var args = new List<string> { "-sS", "--max-time", "20", "-o", Out("f"), Url(user, file) };
        if (noEpsv)
        {
            args.Insert(0, "--disable-epsv");
        }

        var (exit, output) = await ExternalTools.RunAsync(curl, args, Limit);
        Assert.True(exit == 0, output);
        Assert.Equal(NetworkNode.Expected(file), await File.ReadAllBytesAsync(Out("f"), Ct));
    }

    [Fact]
    public async Task Curl_resumes_with_rest_and_reads_size_and_mdtm()
    {
        var curl = ExternalTools.Require("curl");
        var (exit, output) = await ExternalTools.RunAsync(curl, ["-sS", "--max-time", "20", "-r", "100000-", "-o", Out("tail"), Url("operator:secret", "traffic-app.bin")], Limit);
        Assert.True(exit == 0, output);
        Assert.Equal(NetworkNode.Expected("traffic-app.bin")[100_000..], await File.ReadAllBytesAsync(Out("tail"), Ct));

        var (hexit, head) = await ExternalTools.RunAsync(curl, ["-sS", "--max-time", "20", "-I", Url("operator:secret", "traffic-app.bin")], Limit);
        Assert.True(hexit == 0, head);
        Assert.Contains("Content-Length: 150001", head, StringComparison.Ordinal);
        Assert.Contains("Last-Modified:", head, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Curl_lists_only_what_the_account_may_see()
    {
        var curl = ExternalTools.Require("curl");
        var (exit, all) = await ExternalTools.RunAsync(curl, ["-sS", "--max-time", "20", "-l", Url("operator:secret", "")], Limit);
        Assert.True(exit == 0, all);
        Assert.Equal(["big.bin", "boot.bin", "empty.cfg", "traffic-app.bin", "traffic-fpga.bit", "xc-app.bin"], all.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));
        var (exit2, xc) = await ExternalTools.RunAsync(curl, ["-sS", "--max-time", "20", Url("xc5:pw5", "")], Limit);
        Assert.True(exit2 == 0, xc);
        Assert.Contains("xc-app.bin", xc, StringComparison.Ordinal);
        Assert.Contains("50000", xc, StringComparison.Ordinal);
        Assert.DoesNotContain("traffic-app.bin", xc, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("xc5:pw5", "traffic-app.bin")]   // not mapped to xconnect@5
    [InlineData("operator:secret", "..%2Fsgc.map")]
    [InlineData("operator:secret", "nothing.bin")]
    [InlineData("operator:wrong", "boot.bin")]
    public async Task Curl_is_refused_what_it_may_not_have(string user, string path)
    {
        var curl = ExternalTools.Require("curl");
        var (exit, output) = await ExternalTools.RunAsync(curl, ["-sS", "--max-time", "20", "-o", Out("x"), Url(user, path)], Limit);
        Assert.True(exit != 0, output);
        Assert.Equal(0, _server.FilesSent);
    }

    [Fact]
    public async Task Curl_upload_is_refused_and_flash_is_unchanged()
    {
        var curl = ExternalTools.Require("curl");
        await File.WriteAllBytesAsync(Out("up"), [1, 2, 3], Ct);
        var before = _node.Mutations();
        var (exit, output) = await ExternalTools.RunAsync(curl, ["-sS", "--max-time", "20", "-T", Out("up"), Url("operator:secret", "boot.bin")], Limit);
        Assert.True(exit != 0, output);
        Assert.Equal(before, _node.Mutations());
    }

    [Fact]
    public async Task Lftp_lists_and_gets_components()
    {
        var lftp = ExternalTools.Require("lftp");
        string port = _server.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture);
        var script = $"set ftp:passive-mode on; set net:max-retries 1; set net:timeout 10; set cmd:fail-exit yes; ls; get boot.bin -o {Out("boot.bin")}; get traffic-fpga.bit -o {Out("fpga.bit")}; quit";
        var (exit, output) = await ExternalTools.RunAsync(lftp, ["-u", "operator,secret", "-p", port, "-e", script, "127.0.0.1"], Limit);
        Assert.True(exit == 0, output);
        Assert.Contains("traffic-app.bin", output, StringComparison.Ordinal);
        Assert.Equal(NetworkNode.Expected("boot.bin"), await File.ReadAllBytesAsync(Out("boot.bin"), Ct));
        Assert.Equal(NetworkNode.Expected("traffic-fpga.bit"), await File.ReadAllBytesAsync(Out("fpga.bit"), Ct));
    }
}

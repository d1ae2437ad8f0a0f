using System.Net;
using Flash.Svm.Network.Tftp;

namespace Flash.Svm.Network.Tests.Tftp;

/// <summary>atftp, tftp-hpa and curl fetch components from the TFTP server on loopback.</summary>
public sealed class TftpRealClientTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly NetworkNode _node = new();
    private TftpServer _server = null!;
    private string _dir = null!;

    public ValueTask InitializeAsync()
    {
        _server = new TftpServer(_node.Store, new TftpServerOptions
        {
            Endpoint = new IPEndPoint(IPAddress.Loopback, 0),
            Plan = NetworkNode.LoopbackPlan,
            RetransmitTimeout = TimeSpan.FromMilliseconds(500),
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

    private string Port => _server.LocalEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private string Out(string name) => Path.Combine(_dir, name);

    [Theory]
    [InlineData("boot.bin", null)]
    [InlineData("traffic-app.bin", null)]
    [InlineData("traffic-app.bin", 1468)]
    [InlineData("traffic-fpga.bit", 8192)]
    [InlineData("empty.cfg", null)]
    public async Task Curl_fetches_a_component_with_and_without_blksize(string file, int? blksize)
    {
        var curl = ExternalTools.Require("curl");
        var args = new List<string> { "-sS", "--max-time", "20", "-o", Out(file) };
        if (blksize is { } b)
        {
            args.AddRange(["--tftp-blksize", b.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        }

        args.Add($"tftp://127.0.0.1:{Port}/{file}");
        var (exit, output) = await ExternalTools.RunAsync(curl, args, Limit);
        Assert.True(exit == 0, output);
        Assert.Equal(NetworkNode.Expected(file), await File.ReadAllBytesAsync(Out(file), TestContext.Current.CancellationToken));
        await WaitIdleAsync();
        Assert.Equal(1, _server.Statistics.Completed);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(1024, null)]
    [InlineData(1428, 8)]
    [InlineData(512, 16)]
    public async Task Atftp_fetches_a_component_with_blksize_and_windowsize(int? blksize, int? window)
    {
        var atftp = ExternalTools.Require("atftp");
        var args = new List<string> { "--get", "-r", "traffic-app.bin", "-l", Out("a.bin"), "--tftp-timeout", "1" };
        if (blksize is { } b)
        {
            args.AddRange(["--option", $"blksize {b}"]);
        }

        if (window is { } w)
        {
            args.AddRange(["--option", $"windowsize {w}"]);
        }

        args.AddRange(["--option", "tsize 0", "127.0.0.1", Port]);
        var (exit, output) = await ExternalTools.RunAsync(atftp, args, Limit);
        Assert.True(exit == 0, output);
        Assert.Equal(NetworkNode.Expected("traffic-app.bin"), await File.ReadAllBytesAsync(Out("a.bin"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Tftp_hpa_fetches_a_component_in_binary_mode()
    {
        var tftp = ExternalTools.Require("tftp");
        var (exit, output) = await ExternalTools.RunAsync(tftp, ["-m", "binary", "127.0.0.1", Port, "-c", "get", "boot.bin", Out("b.bin")], Limit);
        Assert.True(exit == 0, output);
        Assert.Equal(NetworkNode.Expected("boot.bin"), await File.ReadAllBytesAsync(Out("b.bin"), TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("xc-app.bin")]        // exists, not mapped to traffic@1
    [InlineData("../sgc.map")]        // traversal
    [InlineData("config/node.cfg")]   // not a component
    [InlineData("nothing.bin")]       // no such component
    public async Task Curl_gets_an_error_for_files_it_may_not_have(string file)
    {
        var curl = ExternalTools.Require("curl");
        var (exit, output) = await ExternalTools.RunAsync(curl, ["-sS", "--max-time", "10", "-o", Out("x"), $"tftp://127.0.0.1:{Port}/{Uri.EscapeDataString(file).Replace("%2F", "/", StringComparison.Ordinal)}"], Limit);
        Assert.True(exit != 0, output);
        Assert.Equal(0, _server.Statistics.Started);
    }

    [Fact]
    public async Task Tftp_hpa_upload_is_refused_and_flash_is_unchanged()
    {
        var tftp = ExternalTools.Require("tftp");
        await File.WriteAllBytesAsync(Out("up.bin"), [1, 2, 3], TestContext.Current.CancellationToken);
        var before = _node.Mutations();
        var (_, output) = await ExternalTools.RunAsync(tftp, ["-m", "binary", "127.0.0.1", Port, "-c", "put", Out("up.bin"), "boot.bin"], Limit);
        Assert.Contains("read-only", output, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, _node.Mutations());
    }

    private async Task WaitIdleAsync()
    {
        for (int i = 0; i < 200 && _server.ActiveTransfers > 0; i++)
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
        }
    }
}

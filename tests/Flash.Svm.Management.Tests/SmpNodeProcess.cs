using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Flash.Svm.Management.Tests;

/// <summary>A real SmpNode process (samples/SmpNode, built) on loopback with its own state directory; killed on dispose.</summary>
internal sealed class SmpNodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private SmpNodeProcess(Process process, string state)
    {
        _process = process;
        State = state;
    }

    /// <summary>The built SmpNode.dll (the test skips when it is missing).</summary>
    public static string Dll
    {
        get
        {
            var dll = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "samples", "SmpNode", "bin", "Debug", "net10.0", "SmpNode.dll"));
            if (!File.Exists(dll))
            {
                Assert.Skip($"SmpNode is not built ({dll}); dotnet build samples/SmpNode");
            }

            return dll;
        }
    }

    public string State { get; }

    /// <summary>What the process printed so far (for failure messages).</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts SmpNode on <paramref name="state"/> with free TFTP/FTP/bus ports and <paramref name="args"/>.</summary>
    public static SmpNodeProcess Start(string state, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])[Dll, "--state", state, "--tftp-port", "0", "--ftp-port", "0", "--control-port", "0", "--module-port", Port(FreePort())])
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var node = new SmpNodeProcess(Process.Start(psi)!, state);
        node._process.OutputDataReceived += (_, e) => node.Keep(e.Data);
        node._process.ErrorDataReceived += (_, e) => node.Keep(e.Data);
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        return node;
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Waits (at most 90 s: a first start formats both devices) until the node accepts connections on a loopback port.</summary>
    public async Task WaitForListenerAsync(int port)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (_process.HasExited)
            {
                Assert.Fail($"SmpNode exited ({_process.ExitCode}) before listening on {port}:\n{Output}");
            }

            try
            {
                using var t = new TcpClient();
                await t.ConnectAsync(IPAddress.Loopback, port, TestContext.Current.CancellationToken);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, TestContext.Current.CancellationToken);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync(CancellationToken.None);
        _process.Dispose();
    }

    private void Keep(string? line)
    {
        if (line is not null && _output.Count < 2000)
        {
            _output.Enqueue(line);
        }
    }
}

using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Flash.Svm.Network.Tests.Bus;

/// <summary>
/// samples/ModuleSim running as a separate OS process (optionally inside a network namespace through
/// <c>ip netns exec</c>), with its output collected so a test can wait, bounded, for what it logs. Killed on dispose.
/// </summary>
internal sealed class ModuleProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ModuleProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Everything the program wrote so far (stdout and stderr).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>
    /// The ModuleSim.dll built with the tests (the test project references the sample, so a clean <c>dotnet test</c>
    /// builds it first); its path is stamped into this assembly at build time.
    /// </summary>
    public static string Dll()
    {
        var path = typeof(ModuleProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "ModuleSimDll").Value!;
        Assert.True(File.Exists(path), $"{path} is missing: build samples/ModuleSim (the test project's reference builds it)");
        return Path.GetFullPath(path);
    }

    /// <summary>The dotnet host that runs the tests (dotnet test sets DOTNET_HOST_PATH), else the one on PATH.</summary>
    public static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : ExternalTools.Require("dotnet");

    /// <summary>Starts ModuleSim in this namespace.</summary>
    public static ModuleProcess Start(IEnumerable<string> args) => Launch(DotnetHost(), [Dll(), .. args]);

    /// <summary>Starts ModuleSim inside the namespace (its sockets, interfaces and routes are the namespace's).</summary>
    public static ModuleProcess StartIn(NetNs ns, IEnumerable<string> args) =>
        Launch("/usr/sbin/ip", ["netns", "exec", ns.Name, DotnetHost(), Dll(), .. args]);

    /// <summary>Waits until a line containing <paramref name="text"/> was written; fails with the output otherwise.</summary>
    public async Task<string> WaitForAsync(string text, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (true)
        {
            var line = Output.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            if (_process.HasExited || DateTime.UtcNow >= end)
            {
                Assert.Fail($"ModuleSim did not log '{text}' within {timeout} (exited: {_process.HasExited}):\n{Output}");
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
            // Already gone, or the kernel is slow to reap it: nothing more a test can do.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static ModuleProcess Launch(string program, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        return new ModuleProcess(Process.Start(psi)!);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(line).Append('\n');
        }
    }
}

using System.Diagnostics;

namespace Flash.Svm.Management.Tests;

/// <summary>Runs the real clients the tests drive (socat, expect), bounded in time; skips when one is missing.</summary>
internal static class Tools
{
    public static string Require(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/bin", "/bin"]))
        {
            var path = Path.Combine(dir, program);
            if (dir.Length > 0 && File.Exists(path))
            {
                return path;
            }
        }

        Assert.Skip($"{program} is not installed (.ci/run installs it with apt-get)");
        return "";
    }

    public static async Task<(int Exit, string Output)> RunAsync(string program, IEnumerable<string> args, TimeSpan timeout, string? stdin = null)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await p.StandardInput.WriteAsync(stdin);
        }

        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync(CancellationToken.None);
            return (-1, $"killed after {timeout}: {await stdout}{await stderr}");
        }

        return (p.ExitCode, await stdout + await stderr);
    }
}

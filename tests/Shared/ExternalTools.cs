using System.Diagnostics;

namespace Flash.Tests.Shared;

/// <summary>
/// Finds and runs the real programs the network and management tests drive (clients such as curl,
/// atftp, socat, expect, node), bounded in time; a test skips when its program is missing. Linked into each test
/// project that needs it (see its .csproj).
/// </summary>
internal static class ExternalTools
{
    /// <summary>The full path of an installed program, or skips the test with a message saying how CI installs it.</summary>
    public static string Require(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]))
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

    /// <summary>Runs a program to completion (killed after <paramref name="timeout"/>), returning exit code and output.</summary>
    public static async Task<(int Exit, string Output)> RunAsync(string program, IEnumerable<string> args, TimeSpan timeout, string? stdin = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
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

using System.Diagnostics;

namespace Flash.Svm.Network.Tests;

/// <summary>Runs the real client programs the tests talk to, bounded in time; skips when a program is missing.</summary>
internal static class Tools
{
    public static string Require(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]))
        {
            var path = Path.Combine(dir, program);
            if (File.Exists(path))
            {
                return path;
            }
        }

        Assert.Skip($"{program} is not installed (.ci/run installs it with apt-get)");
        return "";
    }

    public static bool IsRoot => Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" || geteuidIsZero();

    private static bool geteuidIsZero() => File.Exists("/proc/self/status") && File.ReadLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries).Skip(1).FirstOrDefault() == "0");

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

    /// <summary>Starts a long-running program (the caller kills it); output is discarded.</summary>
    public static Process Start(string program, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    public static void MakeExecutable(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "flash-net-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(d);
        return d;
    }
}

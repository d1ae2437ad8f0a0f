using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Flash.Svm.Transfer.Tests.Servers;

/// <summary>Runs server binaries and helper tools for the tests, with bounded waits.</summary>
internal static class Tool
{
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>The first existing path, or null.</summary>
    public static string? Find(params string[] candidates) => candidates.FirstOrDefault(File.Exists);

    /// <summary>Runs a tool to completion (at most 60 s) and fails the test when it fails.</summary>
    public static string Run(string file, string arguments, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {arguments} did not finish in 60 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {stderr.Result}");
        }

        return stdout.Result;
    }

    /// <summary>A loopback TCP port nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits (at most 10 s) until something accepts connections on the loopback port.</summary>
    public static void WaitForPort(int port, Process owner, Func<string> diagnostics)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (owner.HasExited)
            {
                throw new InvalidOperationException($"the server exited ({owner.ExitCode}) before listening: {diagnostics()}");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"nothing listened on 127.0.0.1:{port} within 10 s: {diagnostics()}");
    }
}

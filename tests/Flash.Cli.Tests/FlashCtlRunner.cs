using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;

namespace Flash.Cli.Tests;

/// <summary>The outcome of one flashctl process.</summary>
public sealed record FlashCtlResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout parsed as JSON.</summary>
    public JsonNode Json => JsonNode.Parse(Stdout) ?? throw new InvalidOperationException("empty output");

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the built flashctl as a separate process in a scratch folder, bounded in time.</summary>
public sealed class FlashCtlRunner : IDisposable
{
    private static readonly string ToolPath = typeof(FlashCtlRunner).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "FlashCtlPath").Value!;

    public FlashCtlRunner() => Folder = Directory.CreateTempSubdirectory("flashctl-test-").FullName;

    /// <summary>The scratch folder every command runs in.</summary>
    public string Folder { get; }

    /// <summary>A path inside the scratch folder.</summary>
    public string PathOf(string name) => Path.Combine(Folder, name);

    /// <summary>Runs flashctl with small-image geometry (16 pages a block) unless the arguments give their own.</summary>
    public FlashCtlResult Run(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ToolPath);
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        if (!args.Contains("--pages-per-block"))
        {
            start.ArgumentList.Add("--pages-per-block");
            start.ArgumentList.Add("16");
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"flashctl {string.Join(' ', args)} did not finish in 60 s");
        }

        return new FlashCtlResult(process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs flashctl and asserts the exit code.</summary>
    public FlashCtlResult Expect(int exitCode, params string[] args)
    {
        var r = Run(args);
        Assert.True(r.ExitCode == exitCode, $"flashctl {string.Join(' ', args)}: expected exit {exitCode}\n{r}");
        return r;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

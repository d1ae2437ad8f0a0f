using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Flash.Cli;

/// <summary>
/// Where a command's results go: JSON on stdout with <c>--json</c>, otherwise tables and text on stdout; warnings,
/// errors and progress bars on stderr, so stdout stays parseable and <c>cat</c> stays byte-exact.
/// </summary>
public sealed class Reporter
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Creates a reporter.</summary>
    /// <param name="json">Whether results are JSON.</param>
    /// <param name="progress">Whether progress bars may be drawn (they are only drawn on a terminal).</param>
    public Reporter(bool json, bool progress)
    {
        IsJson = json;
        Out = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        Err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        ShowsProgress = progress && !json && !Console.IsErrorRedirected;
    }

    /// <summary>Whether results are written as JSON.</summary>
    public bool IsJson { get; }

    /// <summary>Whether progress bars are drawn.</summary>
    public bool ShowsProgress { get; }

    /// <summary>The console for results (stdout).</summary>
    public IAnsiConsole Out { get; }

    /// <summary>The console for warnings and progress (stderr).</summary>
    public IAnsiConsole Err { get; }

    /// <summary>Writes a command's result.</summary>
    /// <param name="json">The result as JSON.</param>
    /// <param name="human">Writes the result for people.</param>
    public void Result(JsonNode json, Action<IAnsiConsole> human)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(human);
        if (IsJson)
        {
            Console.Out.WriteLine(json.ToJsonString(Indented));
        }
        else
        {
            human(Out);
        }
    }

    /// <summary>Writes a warning on stderr.</summary>
    /// <param name="message">The warning.</param>
    public void Warn(string message) => Console.Error.WriteLine("flashctl: warning: " + message);

    /// <summary>Reports the error that ended a command: JSON on stdout with <c>--json</c>, always a line on stderr.</summary>
    /// <param name="exitCode">The exit code.</param>
    /// <param name="name">Stable error name.</param>
    /// <param name="message">What went wrong.</param>
    public void Error(int exitCode, string name, string message)
    {
        if (IsJson)
        {
            Console.Out.WriteLine(new JsonObject { ["error"] = new JsonObject { ["code"] = exitCode, ["name"] = name, ["message"] = message } }.ToJsonString(Indented));
        }

        Console.Error.WriteLine($"flashctl: error: {message}");
    }

    /// <summary>Runs long work with a progress bar on stderr when one can be drawn.</summary>
    /// <typeparam name="T">The work's result.</typeparam>
    /// <param name="title">What the bar says.</param>
    /// <param name="work">The work; it reports (phase, done, total).</param>
    /// <returns>The work's result.</returns>
    public T WithProgress<T>(string title, Func<Action<string, double, double>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (!ShowsProgress)
        {
            return work(static (_, _, _) => { });
        }

        return Err.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title));
                return work((phase, done, total) =>
                {
                    task.Description = Markup.Escape($"{title}: {phase}");
                    task.MaxValue = Math.Max(1, total);
                    task.Value = Math.Min(done, task.MaxValue);
                });
            });
    }
}

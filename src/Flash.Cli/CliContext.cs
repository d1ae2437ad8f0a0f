using System.CommandLine;
using Flash.Ffs;

namespace Flash.Cli;

/// <summary>What every command needs: the global options, a reporter, device opening and the error-to-exit-code rule.</summary>
public sealed class CliContext
{
    /// <summary>The global options.</summary>
    public GlobalOptions Options { get; } = new();

    /// <summary>Sets a command's action: runs the body and turns an exception into its exit code and message.</summary>
    /// <param name="command">The command.</param>
    /// <param name="body">The work; returns the exit code.</param>
    public void SetAction(Command command, Func<ParseResult, Reporter, int> body)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(body);
        command.SetAction(result =>
        {
            var reporter = new Reporter(result.GetValue(Options.Json), !result.GetValue(Options.NoProgress));
            try
            {
                return body(result, reporter);
            }
#pragma warning disable CA1031 // The tool's boundary: every failure becomes an exit code and a message.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                var (code, name) = ErrorClassifier.Classify(ex);
                reporter.Error(code, name, code == ExitCodes.Failure ? ex.ToString() : ex.Message);
                return code;
            }
        });
    }

    /// <summary>Opens an image file or MTD device named on the command line.</summary>
    /// <param name="result">The parse result (for the geometry options).</param>
    /// <param name="target">Image path or <c>/dev/mtdN</c>.</param>
    /// <param name="writable">Whether the command changes it.</param>
    /// <returns>The session.</returns>
    public DeviceSession Open(ParseResult result, string target, bool writable)
        => DeviceSession.Open(target, length => Options.GeometryFor(result, length), writable);

    /// <summary>Mounts the volume of a session.</summary>
    /// <param name="session">The device.</param>
    /// <param name="writable">Whether the command changes the volume.</param>
    /// <returns>The mounted file system.</returns>
    public static FlashFileSystem Mount(DeviceSession session, bool writable)
    {
        ArgumentNullException.ThrowIfNull(session);
        return FlashFileSystem.Mount(session.Device, new FlashFileSystemOptions { ReadOnly = !writable });
    }

    /// <summary>
    /// Mounts a session's volume for a change, runs it, unmounts (final checkpoint) and writes an image back. When
    /// the change throws, nothing is written back: the image stays as it was.
    /// </summary>
    /// <param name="result">The parse result.</param>
    /// <param name="target">Image path or MTD device.</param>
    /// <param name="change">The change.</param>
    /// <returns>The change's exit code.</returns>
    public int Change(ParseResult result, string target, Func<FlashFileSystem, int> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        using var session = Open(result, target, writable: true);
        var fs = Mount(session, writable: true);
        int code;
        try
        {
            code = change(fs);
            fs.Unmount();
        }
        finally
        {
            fs.Dispose();
        }

        session.Save();
        return code;
    }
}

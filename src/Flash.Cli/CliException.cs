namespace Flash.Cli;

/// <summary>A failure flashctl reports with a specific exit code and a message for the user.</summary>
/// <param name="exitCode">One of <see cref="ExitCodes"/>.</param>
/// <param name="message">What went wrong, for the user.</param>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    /// <summary>The exit code the process ends with.</summary>
    public int ExitCode { get; } = exitCode;
}

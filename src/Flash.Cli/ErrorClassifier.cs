using Flash.Drivers;
using Flash.Ffs;
using Flash.Svm;

namespace Flash.Cli;

/// <summary>Maps an exception to the exit code and the short error name flashctl reports (a pure policy).</summary>
public static class ErrorClassifier
{
    /// <summary>The exit code and error name for an exception.</summary>
    /// <param name="error">The exception that ended the command.</param>
    /// <returns>The exit code and a stable name for <c>--json</c> output.</returns>
    public static (int ExitCode, string Name) Classify(Exception error) => error switch
    {
        CliException e => (e.ExitCode, NameOf(e.ExitCode)),
        PackageRejectedException => (ExitCodes.PackageRejected, "package-rejected"),
        ConfigurationUnavailableException or NvsUnavailableException or UpgradeFailedException or SvmException => (ExitCodes.Svm, "svm"),
        FlashPathNotFoundException or FileNotFoundException or DirectoryNotFoundException => (ExitCodes.NotFound, "not-found"),
        FlashInvalidPathException => (ExitCodes.Usage, "usage"),
        FlashFileSystemException or FlashReadOnlyException => (ExitCodes.FileSystem, "file-system"),
        FlashException or InvalidDataException or UnauthorizedAccessException => (ExitCodes.Device, "device"),
        InvalidOperationException => (ExitCodes.Refused, "refused"),
        IOException => (ExitCodes.Device, "device"),
        ArgumentException or FormatException => (ExitCodes.Usage, "usage"),
        _ => (ExitCodes.Failure, "failure"),
    };

    private static string NameOf(int exitCode) => exitCode switch
    {
        ExitCodes.Usage => "usage",
        ExitCodes.Device => "device",
        ExitCodes.NotFound => "not-found",
        ExitCodes.FileSystem => "file-system",
        ExitCodes.CheckFailed => "check-failed",
        ExitCodes.PackageRejected => "package-rejected",
        ExitCodes.Svm => "svm",
        ExitCodes.Refused => "refused",
        _ => "failure",
    };
}

namespace Flash.Cli;

/// <summary>The process exit codes of flashctl; docs/cli.md lists them for scripts.</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>An unexpected internal error (a bug: please report it with the message).</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: unknown command or option, missing or malformed argument.</summary>
    public const int Usage = 2;

    /// <summary>The device or image cannot be opened, read or written, or its size does not fit the geometry.</summary>
    public const int Device = 3;

    /// <summary>A path on the flash volume or on the host does not exist.</summary>
    public const int NotFound = 4;

    /// <summary>The file system refused: no volume, corrupt volume, no space, path exists, file/directory mismatch.</summary>
    public const int FileSystem = 5;

    /// <summary><c>fsck</c> found problems that are not (all) repaired.</summary>
    public const int CheckFailed = 6;

    /// <summary>A software package is malformed, unsigned, signed by an untrusted key, or below the anti-rollback floor.</summary>
    public const int PackageRejected = 7;

    /// <summary>Software version management failed: storage unavailable, upgrade failed, configuration unavailable.</summary>
    public const int Svm = 8;

    /// <summary>The request is valid but not possible in the current state (e.g. <c>commit</c> with no trial pending).</summary>
    public const int Refused = 9;
}

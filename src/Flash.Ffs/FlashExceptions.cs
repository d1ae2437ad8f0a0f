namespace Flash.Ffs;

/// <summary>Base of the errors the file system reports.</summary>
public class FlashFileSystemException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public FlashFileSystemException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The cause.</param>
    public FlashFileSystemException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The on-flash image is not a valid Flash file system (no superblock, bad CRC, unknown version, broken checkpoint). Nothing was changed.</summary>
public sealed class FileSystemCorruptException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is corrupt.</param>
    public FileSystemCorruptException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What is corrupt.</param>
    /// <param name="inner">The cause.</param>
    public FileSystemCorruptException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The volume was formatted for another geometry than the device has.</summary>
public sealed class GeometryMismatchException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which values differ.</param>
    public GeometryMismatchException(string message) : base(message) { }
}

/// <summary>The volume has no room for the change; nothing of it was written and the volume stays usable.</summary>
public sealed class FlashNoSpaceException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What did not fit.</param>
    public FlashNoSpaceException(string message) : base(message) { }
}

/// <summary>A path names no file or directory.</summary>
public sealed class FlashPathNotFoundException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The path.</param>
    public FlashPathNotFoundException(string path) : base($"'{path}' does not exist.") => Path = path;

    /// <summary>The path that was not found.</summary>
    public string Path { get; }
}

/// <summary>A path already names an entry that the operation would create.</summary>
public sealed class FlashPathExistsException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The path.</param>
    public FlashPathExistsException(string path) : base($"'{path}' already exists.") => Path = path;

    /// <summary>The path that exists.</summary>
    public string Path { get; }
}

/// <summary>The operation needs a directory (or a file) and the path names the other kind, or a directory is not empty.</summary>
public sealed class FlashEntryKindException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The path.</param>
    /// <param name="message">What was expected.</param>
    public FlashEntryKindException(string path, string message) : base(message) => Path = path;

    /// <summary>The path concerned.</summary>
    public string Path { get; }
}

/// <summary>A path or name is not valid: empty, too long, containing a separator or NUL, or "." / "..".</summary>
public sealed class FlashInvalidPathException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The path.</param>
    /// <param name="message">What is wrong with it.</param>
    public FlashInvalidPathException(string path, string message) : base(message) => InvalidPath = path;

    /// <summary>The offending path.</summary>
    public string InvalidPath { get; }
}

/// <summary>Stored data could not be read back correctly (uncorrectable ECC or CRC mismatch). Names the file; never returns wrong data.</summary>
public sealed class FlashDataCorruptException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file whose data is damaged, or a description of the structure.</param>
    /// <param name="page">The physical page.</param>
    /// <param name="message">What was found.</param>
    public FlashDataCorruptException(string path, int page, string message) : base(message)
    {
        Path = path;
        Page = page;
    }

    /// <summary>The damaged file.</summary>
    public string Path { get; }

    /// <summary>The physical page that could not be read.</summary>
    public int Page { get; }
}

/// <summary>The file system was unmounted (or faulted after a device failure such as a power loss) and must be mounted again.</summary>
public sealed class FlashUnmountedException : ObjectDisposedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the volume is unusable.</param>
    public FlashUnmountedException(string message) : base(nameof(FlashFileSystem), message) { }
}

/// <summary>A change was attempted on a volume mounted read-only.</summary>
public sealed class FlashReadOnlyException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    public FlashReadOnlyException() : base("The volume is mounted read-only.") { }
}

/// <summary>A write of part of a file (<see cref="FlashTransaction.WriteAt"/>) starts past the file's end, or the file does not exist and the write does not start at 0. Nothing was written.</summary>
public sealed class FlashWriteRangeException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="path">The file.</param>
    /// <param name="offset">Where the write was to start.</param>
    /// <param name="length">The file's length as the batch leaves it before the write, or -1 when it does not exist.</param>
    public FlashWriteRangeException(string path, long offset, long length)
        : base(length < 0 ? $"'{path}' does not exist; a write into it must start at 0, not {offset}." : $"A write at {offset} of '{path}' starts past its end ({length} bytes); files have no holes.")
    {
        Path = path;
        Offset = offset;
        Length = length;
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Where the write was to start.</summary>
    public long Offset { get; }

    /// <summary>The file's length before the write, or -1 when it did not exist.</summary>
    public long Length { get; }
}

namespace Flash.Drivers.Mtd;

/// <summary>An MTD system call failed; <see cref="Errno"/> is the Linux error number it returned.</summary>
public class MtdException : FlashException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errno">The Linux error number.</param>
    /// <param name="message">What failed.</param>
    public MtdException(int errno, string message) : base($"{message} (errno {errno}: {LinuxErrno.Describe(errno)})") => Errno = errno;

    /// <summary>The Linux error number (for example 5 for EIO, 13 for EACCES).</summary>
    public int Errno { get; }

    /// <summary>Builds the most specific exception for an errno.</summary>
    /// <param name="errno">The error number.</param>
    /// <param name="message">What failed.</param>
    /// <returns>The exception to throw.</returns>
    internal static MtdException For(int errno, string message) => errno switch
    {
        LinuxErrno.EACCES or LinuxErrno.EPERM => new MtdPermissionDeniedException(errno, message),
        LinuxErrno.EROFS => new MtdReadOnlyException(errno, message),
        LinuxErrno.ENOTTY or LinuxErrno.ENODEV or LinuxErrno.ENXIO => new MtdNotMtdDeviceException(errno, message),
        LinuxErrno.EINVAL => new MtdBufferSizeException(errno, message),
        LinuxErrno.EIO or LinuxErrno.EBADMSG or LinuxErrno.EUCLEAN => new MtdIOException(errno, message),
        _ => new MtdException(errno, message),
    };
}

/// <summary>The path is not an MTD character device (the MTD ioctls answer ENOTTY or the node is missing its driver).</summary>
public sealed class MtdNotMtdDeviceException : MtdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errno">The Linux error number.</param>
    /// <param name="message">What failed.</param>
    public MtdNotMtdDeviceException(int errno, string message) : base(errno, message) { }
}

/// <summary>The caller may not open or change the device (EACCES or EPERM): run as root or join the group owning /dev/mtd*.</summary>
public sealed class MtdPermissionDeniedException : MtdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errno">The Linux error number.</param>
    /// <param name="message">What failed.</param>
    public MtdPermissionDeniedException(int errno, string message) : base(errno, message) { }
}

/// <summary>The device or partition is read-only (EROFS, a read-only node, or no MTD_WRITEABLE flag), or it was opened read-only.</summary>
public sealed class MtdReadOnlyException : MtdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errno">The Linux error number.</param>
    /// <param name="message">What failed.</param>
    public MtdReadOnlyException(int errno, string message) : base(errno, message) { }
}

/// <summary>The kernel refused a transfer's size or alignment (EINVAL), or moved fewer bytes than a page.</summary>
public sealed class MtdBufferSizeException : MtdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errno">The Linux error number.</param>
    /// <param name="message">What failed.</param>
    public MtdBufferSizeException(int errno, string message) : base(errno, message) { }
}

/// <summary>The chip reported an I/O error (EIO, EBADMSG).</summary>
public sealed class MtdIOException : MtdException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="errno">The Linux error number.</param>
    /// <param name="message">What failed.</param>
    public MtdIOException(int errno, string message) : base(errno, message) { }
}

/// <summary>The Linux error numbers the MTD driver tells apart.</summary>
public static class LinuxErrno
{
    /// <summary>Operation not permitted.</summary>
    public const int EPERM = 1;

    /// <summary>No such file or directory.</summary>
    public const int ENOENT = 2;

    /// <summary>Input/output error.</summary>
    public const int EIO = 5;

    /// <summary>No such device or address.</summary>
    public const int ENXIO = 6;

    /// <summary>Bad file descriptor.</summary>
    public const int EBADF = 9;

    /// <summary>Permission denied.</summary>
    public const int EACCES = 13;

    /// <summary>Device or resource busy.</summary>
    public const int EBUSY = 16;

    /// <summary>No such device.</summary>
    public const int ENODEV = 19;

    /// <summary>Invalid argument.</summary>
    public const int EINVAL = 22;

    /// <summary>Inappropriate ioctl for device.</summary>
    public const int ENOTTY = 25;

    /// <summary>Read-only file system.</summary>
    public const int EROFS = 30;

    /// <summary>Bad message (uncorrectable ECC error).</summary>
    public const int EBADMSG = 74;

    /// <summary>Operation not supported.</summary>
    public const int EOPNOTSUPP = 95;

    /// <summary>Structure needs cleaning (bit flips were corrected).</summary>
    public const int EUCLEAN = 117;

    /// <summary>A short name for an error number.</summary>
    /// <param name="errno">The error number.</param>
    /// <returns>Its symbolic name, or the number.</returns>
    public static string Describe(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        EIO => "EIO",
        ENXIO => "ENXIO",
        EBADF => "EBADF",
        EACCES => "EACCES",
        EBUSY => "EBUSY",
        ENODEV => "ENODEV",
        EINVAL => "EINVAL",
        ENOTTY => "ENOTTY",
        EROFS => "EROFS",
        EBADMSG => "EBADMSG",
        EOPNOTSUPP => "EOPNOTSUPP",
        EUCLEAN => "EUCLEAN",
        _ => errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}

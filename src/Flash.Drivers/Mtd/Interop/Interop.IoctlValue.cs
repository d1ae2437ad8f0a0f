using System.Runtime.InteropServices;

namespace Flash.Drivers.Mtd;

internal static partial class Interop
{
    /// <summary>ioctl(2) with an integer argument (MTDFILEMODE takes the mode by value).</summary>
    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static partial int IoctlValue(int fd, nuint request, nint value);
}

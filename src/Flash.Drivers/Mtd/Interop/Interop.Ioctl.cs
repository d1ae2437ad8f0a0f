using System.Runtime.InteropServices;

namespace Flash.Drivers.Mtd;

internal static partial class Interop
{
    /// <summary>ioctl(2) with a pointer argument (every MTD request passes a struct or a 64-bit offset by address).</summary>
    [LibraryImport(Libc, EntryPoint = "ioctl", SetLastError = true)]
    internal static unsafe partial int Ioctl(int fd, nuint request, void* argument);
}

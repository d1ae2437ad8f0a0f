using System.Runtime.InteropServices;

namespace Flash.Drivers.Mtd;

internal static partial class Interop
{
    /// <summary>close(2): releases a descriptor.</summary>
    [LibraryImport(Libc, EntryPoint = "close", SetLastError = true)]
    internal static partial int Close(int fd);
}

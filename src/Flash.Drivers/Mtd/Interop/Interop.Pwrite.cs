using System.Runtime.InteropServices;

namespace Flash.Drivers.Mtd;

internal static partial class Interop
{
    /// <summary>pwrite(2): writes <paramref name="count"/> bytes at <paramref name="offset"/> without moving the file position.</summary>
    [LibraryImport(Libc, EntryPoint = "pwrite64", SetLastError = true)]
    internal static unsafe partial nint Pwrite(int fd, byte* buffer, nuint count, long offset);
}

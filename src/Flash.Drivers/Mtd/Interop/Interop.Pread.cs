using System.Runtime.InteropServices;

namespace Flash.Drivers.Mtd;

internal static partial class Interop
{
    /// <summary>pread(2): reads <paramref name="count"/> bytes at <paramref name="offset"/> without moving the file position.</summary>
    [LibraryImport(Libc, EntryPoint = "pread64", SetLastError = true)]
    internal static unsafe partial nint Pread(int fd, byte* buffer, nuint count, long offset);
}

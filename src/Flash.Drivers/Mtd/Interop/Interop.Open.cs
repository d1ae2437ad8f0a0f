using System.Runtime.InteropServices;

namespace Flash.Drivers.Mtd;

internal static partial class Interop
{
    /// <summary>open(2): opens a device node. Returns a descriptor or -1 with errno set.</summary>
    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);
}

namespace Flash.Drivers.Mtd;

/// <summary>Native calls of the MTD driver, one file per call (the style of dotnet/iot).</summary>
internal static partial class Interop
{
    /// <summary>The C library every Linux process has; resolved by the runtime (and bound directly under NativeAOT).</summary>
    internal const string Libc = "libc";

    /// <summary>open(2) flag: read only.</summary>
    internal const int O_RDONLY = 0;

    /// <summary>open(2) flag: read and write.</summary>
    internal const int O_RDWR = 2;

    /// <summary>open(2) flag: close on exec.</summary>
    internal const int O_CLOEXEC = 0x80000;
}

using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Contexts;

/// <summary>Options for <see cref="ContextStore.Mount"/>.</summary>
public sealed class ContextStoreOptions
{
    /// <summary>Options of the underlying file system; defaults when null.</summary>
    public FlashFileSystemOptions? FileSystem { get; init; }

    /// <summary>Where context events are logged; nothing is logged when null.</summary>
    public ILogger? Logger { get; init; }
}

namespace Flash.Ffs;

/// <summary>A snapshot of a mounted volume's space, wear and activity.</summary>
public sealed record FileSystemStatistics
{
    /// <summary>User-visible capacity in bytes (good blocks less reserves and metadata areas).</summary>
    public long CapacityBytes { get; init; }

    /// <summary>Bytes still free for user data.</summary>
    public long FreeBytes { get; init; }

    /// <summary>Bytes of flash holding live data (whole pages).</summary>
    public long UsedBytes { get; init; }

    /// <summary>Good blocks.</summary>
    public int GoodBlocks { get; init; }

    /// <summary>Blocks marked bad (factory and grown).</summary>
    public int BadBlocks { get; init; }

    /// <summary>Erased or erasable blocks in the free pool.</summary>
    public int FreeBlocks { get; init; }

    /// <summary>Lowest erase count over good blocks.</summary>
    public long EraseCountMin { get; init; }

    /// <summary>Highest erase count over good blocks.</summary>
    public long EraseCountMax { get; init; }

    /// <summary>Mean erase count over good blocks.</summary>
    public double EraseCountMean { get; init; }

    /// <summary>Payload bytes users wrote since mount.</summary>
    public long UserBytesWritten { get; init; }

    /// <summary>Data bytes programmed to flash since mount (user data, metadata, GC and checkpoints).</summary>
    public long FlashBytesProgrammed { get; init; }

    /// <summary>Write amplification since mount: <see cref="FlashBytesProgrammed"/> / <see cref="UserBytesWritten"/>.</summary>
    public double WriteAmplification => UserBytesWritten == 0 ? 0 : (double)FlashBytesProgrammed / UserBytesWritten;

    /// <summary>Blocks reclaimed by garbage collection since mount.</summary>
    public long GcBlocksReclaimed { get; init; }

    /// <summary>Pages moved by garbage collection since mount.</summary>
    public long GcPagesMoved { get; init; }

    /// <summary>Static wear-levelling moves (cold blocks relocated) since mount.</summary>
    public long WearLevelingMoves { get; init; }

    /// <summary>Pages scrubbed (rewritten after correctable bit errors) since mount.</summary>
    public long PagesScrubbed { get; init; }

    /// <summary>Checkpoints written since mount.</summary>
    public long CheckpointsWritten { get; init; }

    /// <summary>Files and directories on the volume.</summary>
    public int Entries { get; init; }

    /// <summary>
    /// Bytes the mounted file system holds in RAM (block table, buffers, the index of every entry with its name, chunk
    /// map or directory list, open transactions and handles), counted as a 64-bit .NET runtime lays the objects out:
    /// headers, references, array headers and collection capacities included.
    /// </summary>
    public long RamBytes { get; init; }
}

/// <summary>How much idle-time work <see cref="FlashFileSystem.Maintain"/> may do.</summary>
/// <param name="SimulatedTimeBudget">Device time it may spend (per the device's timing model); null for no time limit.</param>
/// <param name="MaxPages">Pages it may move; null for no page limit.</param>
public readonly record struct MaintenanceBudget(TimeSpan? SimulatedTimeBudget = null, int? MaxPages = null);

/// <summary>What a maintenance call did and what is left.</summary>
/// <param name="PagesMoved">Pages relocated by garbage collection, wear levelling and scrubbing.</param>
/// <param name="BlocksErased">Blocks erased ahead of need.</param>
/// <param name="CheckpointWritten">Whether a checkpoint was written.</param>
/// <param name="DeviceTime">Device time spent.</param>
/// <param name="RemainingWork">Work, in page moves, that would otherwise land on later operations: garbage to collect while the free pool is low, pending scrubbing and wear levelling, free blocks to erase (8 each). 0 when idle time can do nothing more.</param>
public readonly record struct MaintenanceReport(int PagesMoved, int BlocksErased, bool CheckpointWritten, TimeSpan DeviceTime, long RemainingWork);

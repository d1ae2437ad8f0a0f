using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>Options for <see cref="FlashFileSystem.Mount"/>: logging, wear levelling, garbage collection and latency bounds.</summary>
public sealed class FlashFileSystemOptions
{
    /// <summary>Where events (GC, wear levelling, bad blocks, recovery) are logged; nothing is logged when null.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Creates the logger (category <c>Flash.Ffs.FlashFileSystem</c>) when <see cref="Logger"/> is null.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Static wear levelling moves cold data when the gap between the most-erased block and the least-erased block
    /// holding cold data exceeds this (and the free pool has no block left below the mean erase count). Default 2:
    /// on the W5 hot/cold workload it keeps the wear spread (max/mean) near 1.05 for about 0.3 extra write
    /// amplification; larger values trade spread for fewer moves.
    /// </summary>
    public int WearLevelingThreshold { get; init; } = 2;

    /// <summary>Blocks kept in reserve so garbage collection can always make progress. Default: 2 % of the blocks, at least 4.</summary>
    public int? ReservedBlocks { get; init; }

    /// <summary>A checkpoint is written once this many blocks have been filled since the last one, bounding recovery after a power cut. Default 16.</summary>
    public int CheckpointIntervalBlocks { get; init; } = 16;

    /// <summary>Pages read with at least this many corrected bits in one ECC sector are scrubbed (their block is rewritten elsewhere). Default 2.</summary>
    public int ScrubThresholdBits { get; init; } = 2;

    /// <summary>
    /// The most pages one foreground operation may relocate (garbage collection and wear levelling) before it must return;
    /// the remaining work is done by later operations or <see cref="FlashFileSystem.Maintain"/>. Default 32.
    /// </summary>
    public int MaxForegroundPagesPerOperation { get; init; } = 32;

    /// <summary>
    /// Cancels mount recovery after a power cut (the scan of the blocks written since the checkpoint and the replay),
    /// which writes nothing until it is done: a cancelled mount throws <see cref="OperationCanceledException"/> and
    /// leaves the device exactly as it was, so it can be mounted again later. Checked at every progress callback.
    /// </summary>
    public CancellationToken MountCancellation { get; init; }

    /// <summary>Called at bounded intervals during long unavoidable work (mount recovery, fsck) so firmware can kick its watchdog.</summary>
    public Action<FlashProgress>? Progress { get; init; }

    /// <summary>Mount read-only: every change is refused with <see cref="FlashReadOnlyException"/>.</summary>
    public bool ReadOnly { get; init; }
}

/// <summary>Options for <see cref="FlashFileSystem.Format"/>.</summary>
public sealed class FormatOptions
{
    /// <summary>The volume identifier written to the superblock; a random one when null.</summary>
    public uint? VolumeId { get; init; }

    /// <summary>A label stored in the superblock (at most 32 UTF-8 bytes).</summary>
    public string Label { get; init; } = "";

    /// <summary>Called as blocks are erased, with the number done and the total.</summary>
    public Action<FlashProgress>? Progress { get; init; }
}

/// <summary>Progress of a long operation: what it is doing and how far it is.</summary>
/// <param name="Phase">A short name of the work ("format", "recovery", "check", ...).</param>
/// <param name="Done">Units done.</param>
/// <param name="Total">Units in all.</param>
public readonly record struct FlashProgress(string Phase, long Done, long Total);

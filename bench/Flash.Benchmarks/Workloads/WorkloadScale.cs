using Flash.Drivers;

namespace Flash.Benchmarks.Workloads;

/// <summary>The sizes and counts of the reference workloads (WORKLOADS.md), or a scaled-down set for smoke runs.</summary>
internal sealed record WorkloadScale
{
    /// <summary>Bytes of one write call in W1, W2, W4, W5 and W6.</summary>
    public const int IoSize = 4096;

    /// <summary>Whether this is the scaled-down smoke set (not comparable with full runs).</summary>
    public bool Quick { get; init; }

    /// <summary>RAW: blocks programmed and read.</summary>
    public int RawBlocks { get; init; }

    /// <summary>W1: files written.</summary>
    public int W1Files { get; init; }

    /// <summary>W1: bytes per file.</summary>
    public int W1FileBytes { get; init; }

    /// <summary>W3: directories.</summary>
    public int W3Directories { get; init; }

    /// <summary>W3: files per directory.</summary>
    public int W3FilesPerDirectory { get; init; }

    /// <summary>W3: bytes per file.</summary>
    public int W3FileBytes { get; init; }

    /// <summary>W4 and W6: files filled.</summary>
    public int W4Files { get; init; }

    /// <summary>W4 and W6: bytes per file.</summary>
    public int W4FileBytes { get; init; }

    /// <summary>W4 and W6: overwrites.</summary>
    public int W4Overwrites { get; init; }

    /// <summary>W5: cold files.</summary>
    public int W5ColdFiles { get; init; }

    /// <summary>W5: bytes per cold file.</summary>
    public int W5ColdFileBytes { get; init; }

    /// <summary>W5: bytes of the hot file.</summary>
    public int W5HotFileBytes { get; init; }

    /// <summary>W5: rewrites of the hot file.</summary>
    public int W5Rewrites { get; init; }

    /// <summary>W7: the device's block count (512 MiB: four times the reference device).</summary>
    public int W7Blocks { get; init; }

    /// <summary>W7: directories.</summary>
    public int W7Directories { get; init; }

    /// <summary>W7: files per directory.</summary>
    public int W7FilesPerDirectory { get; init; }

    /// <summary>W7 and W7F: bytes per small file.</summary>
    public int SmallFileBytes { get; init; }

    /// <summary>W7F: files per directory (it fills the runner's device until it reports no space).</summary>
    public int W7FFilesPerDirectory { get; init; }

    /// <summary>W8: the device's block count (2 GiB: sixteen times the reference device); half of it is filled.</summary>
    public int W8Blocks { get; init; }

    /// <summary>W8: bytes per file.</summary>
    public int W8FileBytes { get; init; }

    /// <summary>W9 and W9M: durable overwrites (on W4's files).</summary>
    public int W9Overwrites { get; init; }

    /// <summary>W9M: the simulated-time budget of each <c>Maintain</c> call between operations.</summary>
    public TimeSpan W9MaintainBudget { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>The reference workloads, exactly as WORKLOADS.md specifies them (for a 128 MiB device).</summary>
    /// <param name="geometry">The device; RAW covers half of it.</param>
    /// <returns>The scale.</returns>
    public static WorkloadScale Full(FlashGeometry geometry) => new()
    {
        RawBlocks = geometry.BlockCount / 2,
        W1Files = 32,
        W1FileBytes = 2 << 20,
        W3Directories = 20,
        W3FilesPerDirectory = 100,
        W3FileBytes = 256,
        W4Files = 96,
        W4FileBytes = 1 << 20,
        W4Overwrites = 4096,
        W5ColdFiles = 10,
        W5ColdFileBytes = 8 << 20,
        W5HotFileBytes = 1 << 20,
        W5Rewrites = 2000,
        W7Blocks = geometry.BlockCount * 4,
        W7Directories = 100,
        W7FilesPerDirectory = 1000,
        SmallFileBytes = 256,
        W7FFilesPerDirectory = 100,
        W8Blocks = geometry.BlockCount * 16,
        W8FileBytes = 1 << 20,
        W9Overwrites = 100_000,
    };

    /// <summary>
    /// A smoke set for CI on a small device: the same shape (W1 half the device, W4 three quarters, W5 cold data 5/8)
    /// with counts cut so the whole run takes seconds.
    /// </summary>
    /// <param name="geometry">The (small) device.</param>
    /// <returns>The scale.</returns>
    public static WorkloadScale Small(FlashGeometry geometry)
    {
        long device = geometry.TotalBytes;
        const int mib = 1 << 20;
        int fileBytes = (int)Math.Max(geometry.BlockSize, Math.Min(mib, device / 16));
        return new WorkloadScale
        {
            Quick = true,
            RawBlocks = geometry.BlockCount / 2,
            W1Files = (int)(device / 2 / fileBytes),
            W1FileBytes = fileBytes,
            W3Directories = 4,
            W3FilesPerDirectory = 25,
            W3FileBytes = 256,
            W4Files = (int)(device * 3 / 4 / fileBytes),
            W4FileBytes = fileBytes,
            W4Overwrites = 256,
            W5ColdFiles = (int)(device * 5 / 8 / fileBytes),
            W5ColdFileBytes = fileBytes,
            W5HotFileBytes = fileBytes / 4,
            W5Rewrites = 100,
            W7Blocks = geometry.BlockCount * 4,
            W7Directories = 10,
            W7FilesPerDirectory = 100,
            SmallFileBytes = 256,
            W7FFilesPerDirectory = 100,
            W8Blocks = geometry.BlockCount * 16,
            W8FileBytes = fileBytes,
            W9Overwrites = 2_000,
        };
    }
}

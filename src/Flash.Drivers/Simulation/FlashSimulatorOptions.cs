namespace Flash.Drivers.Simulation;

/// <summary>Configuration of a <see cref="FlashSimulator"/>: geometry, timing, and the fault model.</summary>
public sealed class FlashSimulatorOptions
{
    /// <summary>The simulated part's geometry; the reference 128 MiB SLC NAND by default.</summary>
    public FlashGeometry Geometry { get; init; } = FlashGeometry.Nand128MiB;

    /// <summary>The device's name in metrics (<see cref="FlashStatistics.DeviceName"/>).</summary>
    public string Name { get; init; } = "sim";

    /// <summary>The timing model for simulated device time.</summary>
    public FlashTiming Timing { get; init; } = FlashTiming.Default;

    /// <summary>Seed of every random choice the simulator makes; the same seed gives the same run.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Blocks marked bad at the factory (marker in the spare area of their first two pages).</summary>
    public IReadOnlyList<int> FactoryBadBlocks { get; init; } = [];

    /// <summary>Probability that any one block is factory bad (in addition to <see cref="FactoryBadBlocks"/>); block 0 is always good.</summary>
    public double FactoryBadBlockRate { get; init; }

    /// <summary>Erases a block survives; after that its erases and programs fail. 0 means unlimited.</summary>
    public long EnduranceCycles { get; init; }

    /// <summary>Probability that a page program fails (a grown bad block).</summary>
    public double ProgramFailureRate { get; init; }

    /// <summary>Probability that a block erase fails (a grown bad block).</summary>
    public double EraseFailureRate { get; init; }

    /// <summary>Probability that any one bit reads wrong (a transient error, gone on the next read).</summary>
    public double BitErrorRate { get; init; }

    /// <summary>Reads of a block after which every further read disturbs a random bit of that block (persistently until erase); 0 disables read disturb.</summary>
    public long ReadDisturbThreshold { get; init; }

    /// <summary>Bits the on-chip ECC corrects per sector; 0 means no ECC (raw reads, for software ECC on top).</summary>
    public int EccStrength { get; init; } = 4;

    /// <summary>Data bytes per ECC sector.</summary>
    public int EccSectorSize { get; init; } = 512;

    /// <summary>Whether overlapping operations throw <see cref="ConcurrentDeviceAccessException"/>.</summary>
    public bool ConcurrencyGuard { get; init; } = true;
}

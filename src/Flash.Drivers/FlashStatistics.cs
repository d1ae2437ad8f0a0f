using Flash.Drivers.Diagnostics;

namespace Flash.Drivers;

/// <summary>
/// Operation counters of one device and the simulated device time they cost under a <see cref="FlashTiming"/>.
/// Counting costs a few integer adds; nothing allocates after construction.
/// </summary>
public sealed class FlashStatistics
{
    private readonly long[] _eraseCounts;
    private KeyValuePair<string, object?> _deviceTag = new(DriverMetrics.DeviceTag, "flash");

    /// <summary>Creates counters for a device.</summary>
    /// <param name="blockCount">Blocks on the device (for per-block erase counts).</param>
    /// <param name="timing">Timing model; <see cref="FlashTiming.Default"/> when null.</param>
    public FlashStatistics(int blockCount, FlashTiming? timing = null)
    {
        _eraseCounts = new long[blockCount];
        Timing = timing ?? FlashTiming.Default;
    }

    /// <summary>
    /// The device's name in metrics (tag <c>flash.device</c>): the MTD path, the simulator's
    /// <see cref="Simulation.FlashSimulatorOptions.Name"/>, or the inner device's name with a suffix for decorators.
    /// </summary>
    public string DeviceName
    {
        get => (string)_deviceTag.Value!;
        set => _deviceTag = new(DriverMetrics.DeviceTag, value ?? throw new ArgumentNullException(nameof(value)));
    }

    /// <summary>Blocks marked bad at run time through this device.</summary>
    public long BlocksMarkedBad { get; private set; }

    /// <summary>The timing model used for <see cref="SimulatedNanoseconds"/>.</summary>
    public FlashTiming Timing { get; }

    /// <summary>Page reads issued.</summary>
    public long PageReads { get; private set; }

    /// <summary>Page programs issued.</summary>
    public long PagePrograms { get; private set; }

    /// <summary>Block erases issued.</summary>
    public long BlockErases { get; private set; }

    /// <summary>Data-area bytes read (spare excluded).</summary>
    public long DataBytesRead { get; private set; }

    /// <summary>Data-area bytes programmed (spare excluded): the numerator of write amplification.</summary>
    public long DataBytesProgrammed { get; private set; }

    /// <summary>Spare-area bytes read.</summary>
    public long SpareBytesRead { get; private set; }

    /// <summary>Spare-area bytes programmed.</summary>
    public long SpareBytesProgrammed { get; private set; }

    /// <summary>Reads whose ECC corrected bits.</summary>
    public long CorrectedReads { get; private set; }

    /// <summary>Reads that were uncorrectable.</summary>
    public long UncorrectableReads { get; private set; }

    /// <summary>Simulated device time of every operation so far, in nanoseconds.</summary>
    public long SimulatedNanoseconds { get; private set; }

    /// <summary>Simulated device time as a <see cref="TimeSpan"/>.</summary>
    public TimeSpan SimulatedTime => TimeSpan.FromTicks(SimulatedNanoseconds / 100);

    /// <summary>Program and erase operations issued: the points at which a power cut can strike.</summary>
    public long Mutations => PagePrograms + BlockErases;

    /// <summary>Erases of one block since the counters were created.</summary>
    /// <param name="block">Block number.</param>
    /// <returns>The erase count.</returns>
    public long EraseCount(int block) => _eraseCounts[block];

    /// <summary>Per-block erase counts.</summary>
    public ReadOnlySpan<long> EraseCounts => _eraseCounts;

    /// <summary>Records a read.</summary>
    /// <param name="dataBytes">Data bytes moved.</param>
    /// <param name="spareBytes">Spare bytes moved.</param>
    /// <param name="result">The read's ECC result.</param>
    public void RecordRead(int dataBytes, int spareBytes, ReadResult result)
    {
        PageReads++;
        DataBytesRead += dataBytes;
        SpareBytesRead += spareBytes;
        long ns = Timing.ReadCost(dataBytes + spareBytes);
        SimulatedNanoseconds += ns;
        DriverMetrics.RecordRead(_deviceTag, dataBytes, spareBytes, result, ns);
        if (result.Status == EccStatus.Corrected)
        {
            CorrectedReads++;
        }
        else if (result.Status == EccStatus.Uncorrectable)
        {
            UncorrectableReads++;
        }
    }

    /// <summary>Records a program.</summary>
    /// <param name="dataBytes">Data bytes moved.</param>
    /// <param name="spareBytes">Spare bytes moved.</param>
    public void RecordProgram(int dataBytes, int spareBytes)
    {
        PagePrograms++;
        DataBytesProgrammed += dataBytes;
        SpareBytesProgrammed += spareBytes;
        long ns = Timing.ProgramCost(dataBytes + spareBytes);
        SimulatedNanoseconds += ns;
        DriverMetrics.RecordProgram(_deviceTag, dataBytes, spareBytes, ns);
    }

    /// <summary>Records an erase.</summary>
    /// <param name="block">The block erased.</param>
    public void RecordErase(int block)
    {
        BlockErases++;
        _eraseCounts[block]++;
        SimulatedNanoseconds += Timing.EraseNs;
        DriverMetrics.RecordErase(_deviceTag, Timing.EraseNs);
    }

    /// <summary>Records a block marked bad at run time.</summary>
    /// <param name="block">The block.</param>
    public void RecordMarkBad(int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        BlocksMarkedBad++;
        DriverMetrics.BadBlocksMarked.Add(1, _deviceTag);
    }

    /// <summary>Captures the counters now, to subtract later and measure a phase.</summary>
    /// <returns>A value copy of the scalar counters.</returns>
    public FlashCounters Capture() => new(PageReads, PagePrograms, BlockErases, DataBytesRead, DataBytesProgrammed, SimulatedNanoseconds);
}

/// <summary>A copy of a device's scalar counters at one moment; subtract two to measure a phase.</summary>
/// <param name="PageReads">Page reads.</param>
/// <param name="PagePrograms">Page programs.</param>
/// <param name="BlockErases">Block erases.</param>
/// <param name="DataBytesRead">Data bytes read.</param>
/// <param name="DataBytesProgrammed">Data bytes programmed.</param>
/// <param name="SimulatedNanoseconds">Simulated time in nanoseconds.</param>
public readonly record struct FlashCounters(long PageReads, long PagePrograms, long BlockErases, long DataBytesRead, long DataBytesProgrammed, long SimulatedNanoseconds)
{
    /// <summary>The difference of two captures.</summary>
    /// <param name="after">The later capture.</param>
    /// <param name="before">The earlier capture.</param>
    /// <returns>What happened between them.</returns>
    public static FlashCounters operator -(FlashCounters after, FlashCounters before) => new(
        after.PageReads - before.PageReads,
        after.PagePrograms - before.PagePrograms,
        after.BlockErases - before.BlockErases,
        after.DataBytesRead - before.DataBytesRead,
        after.DataBytesProgrammed - before.DataBytesProgrammed,
        after.SimulatedNanoseconds - before.SimulatedNanoseconds);

    /// <summary>Subtracts two captures (named alternative to the operator).</summary>
    /// <param name="after">The later capture.</param>
    /// <param name="before">The earlier capture.</param>
    /// <returns>What happened between them.</returns>
    public static FlashCounters Subtract(FlashCounters after, FlashCounters before) => after - before;

    /// <summary>Simulated time in milliseconds.</summary>
    public double SimulatedMilliseconds => SimulatedNanoseconds / 1e6;
}

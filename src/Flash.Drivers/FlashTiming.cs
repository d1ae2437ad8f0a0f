namespace Flash.Drivers;

/// <summary>
/// The timing model that turns device operations into simulated device time. The defaults are those of
/// the benchmark contract: tR 25 us, tPROG 200 us, tBERS 2,000 us, a 40 MB/s bus (25 ns a byte),
/// so a 2,048 B page program costs 251.2 us.
/// </summary>
/// <param name="ReadNs">Array-to-register time of a page read (tR), in nanoseconds.</param>
/// <param name="ProgramNs">Register-to-array time of a page program (tPROG), in nanoseconds.</param>
/// <param name="EraseNs">Block erase time (tBERS), in nanoseconds.</param>
/// <param name="TransferNsPerByte">Bus transfer cost per byte, in nanoseconds.</param>
public sealed record FlashTiming(long ReadNs = 25_000, long ProgramNs = 200_000, long EraseNs = 2_000_000, long TransferNsPerByte = 25)
{
    /// <summary>The benchmark contract's timings.</summary>
    public static FlashTiming Default { get; } = new();

    /// <summary>Simulated cost of a read moving <paramref name="bytes"/> over the bus.</summary>
    /// <param name="bytes">Bytes transferred (data plus spare).</param>
    /// <returns>Nanoseconds.</returns>
    public long ReadCost(int bytes) => ReadNs + (bytes * TransferNsPerByte);

    /// <summary>Simulated cost of a program moving <paramref name="bytes"/> over the bus.</summary>
    /// <param name="bytes">Bytes transferred (data plus spare).</param>
    /// <returns>Nanoseconds.</returns>
    public long ProgramCost(int bytes) => ProgramNs + (bytes * TransferNsPerByte);
}

namespace Flash.Drivers.Mtd;

/// <summary>How <see cref="MtdDevice.Open(string, MtdDeviceOptions?)"/> opens a Linux MTD device.</summary>
public sealed class MtdDeviceOptions
{
    /// <summary>Open read-only: reads work, programs, erases and bad-block marking throw <see cref="MtdReadOnlyException"/>.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Raw access (MTD_FILE_MODE_RAW): data and spare move without the kernel's ECC, as a software ECC layer
    /// (<see cref="Ecc.EccDevice"/>) above needs. Reads then always report <see cref="EccStatus.Clean"/> and the whole
    /// spare after the bad-block marker counts as free.
    /// </summary>
    public bool Raw { get; init; }

    /// <summary>The page size the file system sees on devices whose write unit is smaller (NOR, RAM: write size 1); a power of two, at least 64.</summary>
    public int NorPageSize { get; init; } = 2048;

    /// <summary>Programs allowed per page between erases; when null, 1 on NAND and 8 on NOR.</summary>
    public int? PartialPrograms { get; init; }

    /// <summary>The timing model the device's <see cref="FlashStatistics"/> uses (it counts operations, it does not measure them).</summary>
    public FlashTiming? Timing { get; init; }
}

/// <summary>The kind of an MTD device (mtd_info_user.type).</summary>
public enum MtdType
{
    /// <summary>No device.</summary>
    Absent = 0,

    /// <summary>RAM.</summary>
    Ram = 1,

    /// <summary>ROM.</summary>
    Rom = 2,

    /// <summary>NOR flash.</summary>
    NorFlash = 3,

    /// <summary>SLC NAND flash.</summary>
    NandFlash = 4,

    /// <summary>Atmel DataFlash.</summary>
    DataFlash = 6,

    /// <summary>A UBI volume presented as MTD (gluebi).</summary>
    UbiVolume = 7,

    /// <summary>MLC or TLC NAND flash.</summary>
    MlcNandFlash = 8,
}

/// <summary>The kernel's running ECC counters of an MTD device (ECCGETSTATS).</summary>
/// <param name="Corrected">Bit flips corrected since boot.</param>
/// <param name="Failed">Uncorrectable ECC errors since boot.</param>
/// <param name="BadBlocks">Bad blocks known to the kernel.</param>
/// <param name="BbtBlocks">Blocks reserved for the bad-block table.</param>
public readonly record struct MtdEccCounters(uint Corrected, uint Failed, uint BadBlocks, uint BbtBlocks);

namespace Flash.Drivers;

/// <summary>What the error-correction logic reported for a page read.</summary>
public enum EccStatus
{
    /// <summary>No bit errors were seen.</summary>
    Clean = 0,

    /// <summary>Bit errors were seen and corrected; the data returned is correct.</summary>
    Corrected = 1,

    /// <summary>At least one sector had more errors than the ECC can correct; the data returned is not trustworthy.</summary>
    Uncorrectable = 2,
}

/// <summary>The outcome of a page read: its ECC status and how many bits were corrected.</summary>
/// <param name="Status">Clean, corrected or uncorrectable.</param>
/// <param name="CorrectedBits">Bits corrected over all sectors of the page (largest per sector in <paramref name="MaxSectorBits"/>).</param>
/// <param name="MaxSectorBits">The most bits corrected in any one ECC sector, the figure scrubbing decisions use.</param>
public readonly record struct ReadResult(EccStatus Status, int CorrectedBits = 0, int MaxSectorBits = 0)
{
    /// <summary>A read with no bit errors.</summary>
    public static ReadResult Clean => default;

    /// <summary>A read whose data cannot be trusted.</summary>
    public static ReadResult Uncorrectable => new(EccStatus.Uncorrectable);

    /// <summary>Whether the data returned is correct (clean or corrected).</summary>
    public bool IsUsable => Status != EccStatus.Uncorrectable;
}

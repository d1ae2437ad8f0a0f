namespace Flash.Drivers;

/// <summary>
/// A raw flash chip or partition: page read and program of data and spare, block erase, bad-block management.
/// The narrow contract every driver (simulator, Linux MTD, decorators) implements and every layer above uses.
/// </summary>
/// <remarks>
/// Buffers are caller-owned spans so that no call allocates. A data span is either empty (do not transfer data)
/// or exactly <see cref="FlashGeometry.PageSize"/> long; a spare span is either empty or exactly
/// <see cref="FlashGeometry.SpareSize"/> long. Implementations are not thread-safe: callers serialise access.
/// </remarks>
public interface IFlashDevice : IDisposable
{
    /// <summary>The device's geometry.</summary>
    FlashGeometry Geometry { get; }

    /// <summary>Operation counters and simulated device time of this device.</summary>
    FlashStatistics Statistics { get; }

    /// <summary>Reads a page's data and/or spare area.</summary>
    /// <param name="page">Page number, 0 to <see cref="FlashGeometry.PageCount"/> - 1.</param>
    /// <param name="data">Receives the data area; empty to skip it.</param>
    /// <param name="spare">Receives the spare area; empty to skip it.</param>
    /// <returns>The ECC status of the read.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The page does not exist.</exception>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    /// <exception cref="PowerLossException">The device has no power.</exception>
    ReadResult Read(int page, Span<byte> data, Span<byte> spare);

    /// <summary>Programs a page's data and/or spare area. Programming can only clear bits.</summary>
    /// <param name="page">Page number.</param>
    /// <param name="data">Data to program; empty to leave the data area as it is.</param>
    /// <param name="spare">Spare bytes to program; empty to leave the spare area as it is.</param>
    /// <exception cref="ArgumentOutOfRangeException">The page does not exist.</exception>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    /// <exception cref="BadBlockException">The page lies in a block marked bad.</exception>
    /// <exception cref="ProgramRuleException">The page was programmed too often, or out of order.</exception>
    /// <exception cref="ProgramFailedException">The chip reported a program failure; the block should be retired.</exception>
    /// <exception cref="PowerLossException">Power was lost before or during the program.</exception>
    void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare);

    /// <summary>Erases a block: every byte of its pages and spare becomes 0xFF.</summary>
    /// <param name="block">Block number.</param>
    /// <exception cref="ArgumentOutOfRangeException">The block does not exist.</exception>
    /// <exception cref="BadBlockException">The block is marked bad.</exception>
    /// <exception cref="EraseFailedException">The chip reported an erase failure; the block should be retired.</exception>
    /// <exception cref="PowerLossException">Power was lost before or during the erase.</exception>
    void Erase(int block);

    /// <summary>Whether a block is marked bad (factory or grown).</summary>
    /// <param name="block">Block number.</param>
    /// <returns><see langword="true"/> when the block must not be used.</returns>
    bool IsBad(int block);

    /// <summary>Marks a block bad so it is never used again.</summary>
    /// <param name="block">Block number.</param>
    void MarkBad(int block);
}

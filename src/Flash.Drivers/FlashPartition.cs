namespace Flash.Drivers;

/// <summary>
/// A contiguous range of a device's blocks seen as a device of its own, like an MTD partition.
/// Addresses are translated; counters are kept both here and on the parent.
/// </summary>
public sealed class FlashPartition : IFlashDevice
{
    private readonly IFlashDevice _parent;
    private readonly int _firstBlock;
    private readonly int _firstPage;
    private readonly bool _ownsParent;

    private FlashPartition(IFlashDevice parent, int firstBlock, int blockCount, bool ownsParent)
    {
        _parent = parent;
        _firstBlock = firstBlock;
        _firstPage = firstBlock * parent.Geometry.PagesPerBlock;
        _ownsParent = ownsParent;
        Geometry = parent.Geometry.WithBlockCount(blockCount);
        Statistics = new FlashStatistics(blockCount, parent.Statistics.Timing) { DeviceName = $"{parent.Statistics.DeviceName}[{firstBlock}+{blockCount}]" };
    }

    /// <summary>Creates a partition of <paramref name="blockCount"/> blocks starting at <paramref name="firstBlock"/>.</summary>
    /// <param name="parent">The whole device.</param>
    /// <param name="firstBlock">First block of the partition on the parent.</param>
    /// <param name="blockCount">Blocks in the partition.</param>
    /// <param name="ownsParent">Whether disposing the partition disposes the parent.</param>
    /// <returns>The partition.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The range does not fit the parent.</exception>
    public static FlashPartition Create(IFlashDevice parent, int firstBlock, int blockCount, bool ownsParent = false)
    {
        ArgumentNullException.ThrowIfNull(parent);
        ArgumentOutOfRangeException.ThrowIfNegative(firstBlock);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        if ((long)firstBlock + blockCount > parent.Geometry.BlockCount)
        {
            throw new ArgumentOutOfRangeException(nameof(blockCount), blockCount, $"Blocks {firstBlock}..{firstBlock + blockCount - 1} exceed the parent's {parent.Geometry.BlockCount} blocks.");
        }

        return new FlashPartition(parent, firstBlock, blockCount, ownsParent);
    }

    /// <inheritdoc />
    public FlashGeometry Geometry { get; }

    /// <inheritdoc />
    public FlashStatistics Statistics { get; }

    /// <summary>The partition's first block on the parent device.</summary>
    public int FirstBlock => _firstBlock;

    /// <inheritdoc />
    public ReadResult Read(int page, Span<byte> data, Span<byte> spare)
    {
        CheckPage(page);
        var result = _parent.Read(_firstPage + page, data, spare);
        Statistics.RecordRead(data.Length, spare.Length, result);
        return result;
    }

    /// <inheritdoc />
    public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
    {
        CheckPage(page);
        _parent.Program(_firstPage + page, data, spare);
        Statistics.RecordProgram(data.Length, spare.Length);
    }

    /// <inheritdoc />
    public void Erase(int block)
    {
        CheckBlock(block);
        _parent.Erase(_firstBlock + block);
        Statistics.RecordErase(block);
    }

    /// <inheritdoc />
    public bool IsBad(int block)
    {
        CheckBlock(block);
        return _parent.IsBad(_firstBlock + block);
    }

    /// <inheritdoc />
    public void MarkBad(int block)
    {
        CheckBlock(block);
        _parent.MarkBad(_firstBlock + block);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsParent)
        {
            _parent.Dispose();
        }
    }

    private void CheckPage(int page) => FlashGuard.Page(Geometry, page);

    private void CheckBlock(int block) => FlashGuard.Block(Geometry, block);
}

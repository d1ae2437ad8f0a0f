namespace Flash.Drivers;

/// <summary>
/// The shape of a raw flash device: page (write unit) and spare sizes, block (erase unit) size and count,
/// and the programming rules a driver or file system must respect.
/// </summary>
/// <remarks>
/// The spare area follows the Linux layout for small-page-ECC NAND: bytes 0–1 hold the bad-block marker,
/// <see cref="SpareFreeOffset"/>..+<see cref="SpareFreeLength"/> are free for the file system, the rest holds ECC.
/// </remarks>
public sealed record FlashGeometry
{
    /// <summary>Creates and validates a geometry.</summary>
    /// <param name="pageSize">Data bytes per page; a power of two from 64 to 65,536.</param>
    /// <param name="spareSize">Spare (OOB) bytes per page; 0 for NOR.</param>
    /// <param name="pagesPerBlock">Pages per erase block.</param>
    /// <param name="blockCount">Erase blocks on the device.</param>
    /// <param name="kind">NAND or NOR.</param>
    /// <param name="partialPrograms">How many times a page may be programmed between erases.</param>
    /// <param name="spareFreeOffset">First spare byte free for the file system.</param>
    /// <param name="spareFreeLength">Spare bytes free for the file system.</param>
    /// <param name="sequentialPrograms">Whether pages of a block must be programmed in ascending order.</param>
    /// <exception cref="ArgumentOutOfRangeException">A value is outside what any real part has.</exception>
    public FlashGeometry(
        int pageSize,
        int spareSize,
        int pagesPerBlock,
        int blockCount,
        FlashKind kind = FlashKind.Nand,
        int partialPrograms = 1,
        int spareFreeOffset = 2,
        int spareFreeLength = 38,
        bool sequentialPrograms = true)
    {
        if (pageSize < 64 || pageSize > 65536 || (pageSize & (pageSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(pageSize), pageSize, "Page size must be a power of two from 64 to 65,536 bytes.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(spareSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spareSize, pageSize / 8);
        ArgumentOutOfRangeException.ThrowIfLessThan(pagesPerBlock, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pagesPerBlock, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(blockCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan((long)blockCount * pagesPerBlock, int.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(partialPrograms, 1);
        if (spareSize == 0)
        {
            spareFreeOffset = 0;
            spareFreeLength = 0;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(spareFreeOffset);
        ArgumentOutOfRangeException.ThrowIfNegative(spareFreeLength);
        if (spareFreeOffset + spareFreeLength > spareSize)
        {
            throw new ArgumentOutOfRangeException(nameof(spareFreeLength), spareFreeLength, "The free spare range must lie inside the spare area.");
        }

        PageSize = pageSize;
        SpareSize = spareSize;
        PagesPerBlock = pagesPerBlock;
        BlockCount = blockCount;
        Kind = kind;
        PartialPrograms = partialPrograms;
        SpareFreeOffset = spareFreeOffset;
        SpareFreeLength = spareFreeLength;
        SequentialPrograms = sequentialPrograms;
    }

    /// <summary>The reference geometry of the benchmark workloads: 2,048 B pages, 64 B spare, 64 pages a block, 1,024 blocks (128 MiB SLC NAND).</summary>
    public static FlashGeometry Nand128MiB { get; } = new(2048, 64, 64, 1024);

    /// <summary>A large-page NAND: 4,096 B pages, 128 B spare, 64 pages a block, 512 blocks (128 MiB); 78 spare bytes free.</summary>
    public static FlashGeometry Nand4KPage128MiB { get; } = new(4096, 128, 64, 512, spareFreeLength: 78);

    /// <summary>Creates a NOR geometry: no spare area, many partial programs, no page order rule.</summary>
    /// <param name="pageSize">Write unit the file system uses (a power of two).</param>
    /// <param name="pagesPerBlock">Pages per erase sector.</param>
    /// <param name="blockCount">Erase sectors.</param>
    /// <param name="partialPrograms">Programs allowed per page between erases.</param>
    /// <returns>The geometry.</returns>
    public static FlashGeometry Nor(int pageSize, int pagesPerBlock, int blockCount, int partialPrograms = 8)
        => new(pageSize, 0, pagesPerBlock, blockCount, FlashKind.Nor, partialPrograms, sequentialPrograms: false);

    /// <summary>Data bytes per page.</summary>
    public int PageSize { get; }

    /// <summary>Spare (OOB) bytes per page; 0 on NOR.</summary>
    public int SpareSize { get; }

    /// <summary>Pages per erase block.</summary>
    public int PagesPerBlock { get; }

    /// <summary>Erase blocks on the device.</summary>
    public int BlockCount { get; }

    /// <summary>NAND or NOR.</summary>
    public FlashKind Kind { get; }

    /// <summary>How many times one page may be programmed between two erases of its block.</summary>
    public int PartialPrograms { get; }

    /// <summary>First spare byte that belongs to the file system (after the bad-block marker).</summary>
    public int SpareFreeOffset { get; }

    /// <summary>Spare bytes that belong to the file system (neither bad-block marker nor ECC).</summary>
    public int SpareFreeLength { get; }

    /// <summary>Whether the pages of a block must be programmed in ascending order.</summary>
    public bool SequentialPrograms { get; }

    /// <summary>The value of every byte after an erase.</summary>
    public byte ErasedValue => 0xFF;

    /// <summary>Data bytes per erase block.</summary>
    public int BlockSize => PageSize * PagesPerBlock;

    /// <summary>Pages on the device.</summary>
    public int PageCount => PagesPerBlock * BlockCount;

    /// <summary>Data bytes on the device.</summary>
    public long TotalBytes => (long)BlockSize * BlockCount;

    /// <summary>The block that holds a page.</summary>
    /// <param name="page">Page number on the device.</param>
    /// <returns>The block number.</returns>
    public int BlockOf(int page) => page / PagesPerBlock;

    /// <summary>The first page of a block.</summary>
    /// <param name="block">Block number.</param>
    /// <returns>The page number of the block's first page.</returns>
    public int FirstPageOf(int block) => block * PagesPerBlock;

    /// <summary>A geometry covering a contiguous range of this device's blocks (for partitions).</summary>
    /// <param name="blockCount">Blocks in the range.</param>
    /// <returns>The geometry of the range.</returns>
    public FlashGeometry WithBlockCount(int blockCount)
        => new(PageSize, SpareSize, PagesPerBlock, blockCount, Kind, PartialPrograms, SpareFreeOffset, SpareFreeLength, SequentialPrograms);

    /// <inheritdoc />
    public override string ToString()
        => $"{Kind} {BlockCount} x {PagesPerBlock} x ({PageSize}+{SpareSize}) B";
}

namespace Flash.Drivers.Simulation;

/// <summary>
/// A RAM flash device that behaves like a real SLC NAND (or NOR) part, deterministically from a seed:
/// AND programming, program-count and order rules, factory and grown bad blocks, wear-out, bit errors with a
/// per-sector ECC model, power cuts that leave partially programmed pages and partially erased blocks,
/// copy-on-write snapshots and nanddump-layout images.
/// </summary>
/// <remarks>
/// Storage is one array per block laid out as nanddump does (each page's data followed by its spare).
/// Blocks are shared copy-on-write between a simulator and its snapshots, so branching thousands of
/// power-loss cases from one run copies only the blocks each branch touches.
/// </remarks>
public sealed partial class FlashSimulator : IFlashDevice
{
    private readonly FlashGeometry _g;
    private readonly int _pageStride;
    private readonly byte[][] _blocks;
    private readonly bool[] _owned;
    private readonly byte[] _programCounts;
    private readonly int[] _highestProgrammed;
    private readonly long[] _wear;
    private readonly long[] _readsSinceErase;
    private readonly bool[] _norBad;
    private readonly Dictionary<int, List<int>> _stuckBits;
    private SimRandom _random;
    private int _busy;
    private bool _disposed;

    private FlashSimulator(FlashSimulatorOptions options, byte[][] blocks, bool[] owned)
    {
        Options = options;
        _g = options.Geometry;
        _pageStride = _g.PageSize + _g.SpareSize;
        _blocks = blocks;
        _owned = owned;
        _programCounts = new byte[_g.PageCount];
        _highestProgrammed = new int[_g.BlockCount];
        Array.Fill(_highestProgrammed, -1);
        _wear = new long[_g.BlockCount];
        _readsSinceErase = new long[_g.BlockCount];
        _norBad = new bool[_g.BlockCount];
        _stuckBits = [];
        _random = new SimRandom(options.Seed);
        Statistics = new FlashStatistics(_g.BlockCount, options.Timing) { DeviceName = options.Name };
        IsPowered = true;
    }

    /// <summary>Creates a blank (fully erased) simulated device, with its factory bad blocks marked.</summary>
    /// <param name="options">Geometry, timing and fault model; defaults when null.</param>
    /// <returns>The device.</returns>
    public static FlashSimulator Create(FlashSimulatorOptions? options = null)
    {
        options ??= new FlashSimulatorOptions();
        if (options.EccSectorSize <= 0 || options.Geometry.PageSize % options.EccSectorSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.EccSectorSize, "The ECC sector size must divide the page size.");
        }

        var g = options.Geometry;
        // Every block starts as a reference to one shared erased template; the first write clones it.
        var erased = new byte[g.PagesPerBlock * (g.PageSize + g.SpareSize)];
        Array.Fill(erased, (byte)0xFF);
        var blocks = new byte[g.BlockCount][];
        Array.Fill(blocks, erased);
        var sim = new FlashSimulator(options, blocks, new bool[g.BlockCount]);
        foreach (int b in options.FactoryBadBlocks)
        {
            sim.MarkBadCore(b);
        }

        if (options.FactoryBadBlockRate > 0)
        {
            for (int b = 1; b < g.BlockCount; b++)
            {
                if (sim._random.Chance(options.FactoryBadBlockRate))
                {
                    sim.MarkBadCore(b);
                }
            }
        }

        return sim;
    }

    /// <summary>The options this simulator was created with.</summary>
    public FlashSimulatorOptions Options { get; }

    /// <inheritdoc />
    public FlashGeometry Geometry => _g;

    /// <inheritdoc />
    public FlashStatistics Statistics { get; }

    /// <summary>Whether the device has power. After a power cut every operation throws <see cref="PowerLossException"/> until <see cref="PowerUp"/>.</summary>
    public bool IsPowered { get; private set; }

    /// <summary>Program and erase operations attempted over the device's life (including interrupted ones); the index power cuts are scheduled by.</summary>
    public long MutationCount { get; private set; }

    /// <summary>Physical erases of a block over its life (what wears it out), kept across snapshots.</summary>
    /// <param name="block">Block number.</param>
    /// <returns>The block's erase count.</returns>
    public long WearOf(int block) => _wear[block];

    /// <summary>How many times a page has been programmed since its block's last erase.</summary>
    /// <param name="page">Page number.</param>
    /// <returns>The program count.</returns>
    public int ProgramCountOf(int page) => _programCounts[page];

    /// <inheritdoc />
    public ReadResult Read(int page, Span<byte> data, Span<byte> spare)
    {
        CheckPage(page);
        CheckBuffers(data.Length, spare.Length);
        Enter();
        try
        {
            ThrowIfOff("read");
            int block = page / _g.PagesPerBlock;
            int offset = (page % _g.PagesPerBlock) * _pageStride;
            var stored = _blocks[block].AsSpan(offset, _pageStride);
            if (!data.IsEmpty)
            {
                stored[.._g.PageSize].CopyTo(data);
            }

            if (!spare.IsEmpty)
            {
                stored[_g.PageSize..].CopyTo(spare);
            }

            ReadDisturb(block);
            var result = ApplyBitErrors(page, data, spare);
            Statistics.RecordRead(data.Length, spare.Length, result);
            return result;
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc />
    public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
    {
        CheckPage(page);
        CheckBuffers(data.Length, spare.Length);
        Enter();
        try
        {
            ThrowIfOff("program");
            int block = page / _g.PagesPerBlock;
            int inBlock = page % _g.PagesPerBlock;
            if (IsBadCore(block))
            {
                throw new BadBlockException(block);
            }

            if (_programCounts[page] >= _g.PartialPrograms)
            {
                throw new ProgramRuleException(page, $"Page {page} was already programmed {_programCounts[page]} time(s) since its block was erased; the part allows {_g.PartialPrograms}.");
            }

            if (_g.SequentialPrograms && inBlock < _highestProgrammed[block])
            {
                throw new ProgramRuleException(page, $"Page {page} is below page {_g.FirstPageOf(block) + _highestProgrammed[block]}, already programmed in block {block}; NAND pages must be programmed in ascending order.");
            }

            MutationCount++;
            var stored = Writable(block).AsSpan(inBlock * _pageStride, _pageStride);
            _programCounts[page]++;
            _highestProgrammed[block] = Math.Max(_highestProgrammed[block], inBlock);
            Statistics.RecordProgram(data.Length, spare.Length);

            if (CutDue())
            {
                // The cell array stopped part-way: a random subset of the bits that were to clear did clear.
                ProgramPartially(stored, data, spare);
                PowerOff();
                throw new PowerLossException($"Power lost while programming page {page}.");
            }

            if (ProgramFails(page, block))
            {
                ProgramPartially(stored, data, spare);
                throw new ProgramFailedException(page);
            }

            AndInto(stored[.._g.PageSize], data);
            AndInto(stored[_g.PageSize..], spare);
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc />
    public void Erase(int block)
    {
        CheckBlock(block);
        Enter();
        try
        {
            ThrowIfOff("erase");
            if (IsBadCore(block))
            {
                throw new BadBlockException(block);
            }

            MutationCount++;
            var content = Writable(block);
            _wear[block]++;
            Statistics.RecordErase(block);
            ResetBlockState(block);

            if (CutDue())
            {
                // An interrupted erase leaves some cells erased and others as they were.
                for (int i = 0; i < content.Length; i++)
                {
                    if ((_random.NextUInt64() & 1) == 0)
                    {
                        content[i] = 0xFF;
                    }
                }

                PowerOff();
                throw new PowerLossException($"Power lost while erasing block {block}.");
            }

            if (EraseFails(block))
            {
                throw new EraseFailedException(block);
            }

            Array.Fill(content, (byte)0xFF);
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc />
    public bool IsBad(int block)
    {
        CheckBlock(block);
        Enter();
        try
        {
            ThrowIfOff("bad-block query");
            return IsBadCore(block);
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc />
    public void MarkBad(int block)
    {
        CheckBlock(block);
        Enter();
        try
        {
            ThrowIfOff("bad-block marking");
            MarkBadCore(block);
            Statistics.RecordMarkBad(block);
        }
        finally
        {
            Exit();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _disposed = true;

    private bool IsBadCore(int block)
    {
        if (_g.SpareSize == 0)
        {
            return _norBad[block];
        }

        // As on real parts: a non-0xFF first spare byte in the first or second page marks the block bad.
        var content = _blocks[block];
        int marker = _g.PageSize;
        return content[marker] != 0xFF || (_g.PagesPerBlock > 1 && content[_pageStride + marker] != 0xFF);
    }

    private void MarkBadCore(int block)
    {
        if (_g.SpareSize == 0)
        {
            _norBad[block] = true;
            return;
        }

        var content = Writable(block);
        content[_g.PageSize] = 0;
        if (_g.PagesPerBlock > 1)
        {
            content[_pageStride + _g.PageSize] = 0;
        }
    }

    private byte[] Writable(int block)
    {
        if (!_owned[block])
        {
            _blocks[block] = (byte[])_blocks[block].Clone();
            _owned[block] = true;
        }

        return _blocks[block];
    }

    private void ResetBlockState(int block)
    {
        _programCounts.AsSpan(block * _g.PagesPerBlock, _g.PagesPerBlock).Clear();
        _highestProgrammed[block] = -1;
        _readsSinceErase[block] = 0;
        for (int p = 0; p < _g.PagesPerBlock && _stuckBits.Count > 0; p++)
        {
            _stuckBits.Remove((block * _g.PagesPerBlock) + p);
        }
    }

    private static void AndInto(Span<byte> stored, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty)
        {
            return;
        }

        // Flash programming can only clear bits: the cell keeps old AND new.
        int i = 0;
        if (System.Numerics.Vector.IsHardwareAccelerated)
        {
            int width = System.Numerics.Vector<byte>.Count;
            for (; i <= source.Length - width; i += width)
            {
                var and = new System.Numerics.Vector<byte>(stored[i..]) & new System.Numerics.Vector<byte>(source[i..]);
                and.CopyTo(stored[i..]);
            }
        }

        for (; i < source.Length; i++)
        {
            stored[i] &= source[i];
        }
    }

    private void ProgramPartially(Span<byte> stored, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
    {
        PartialAnd(stored[.._g.PageSize], data);
        PartialAnd(stored[_g.PageSize..], spare);
    }

    private void PartialAnd(Span<byte> stored, ReadOnlySpan<byte> source)
    {
        for (int i = 0; i < source.Length; i++)
        {
            byte toClear = (byte)(stored[i] & ~source[i]);
            if (toClear != 0)
            {
                stored[i] &= (byte)~(toClear & _random.NextByte());
            }
        }
    }

    private void CheckPage(int page) => FlashGuard.Page(_g, page);

    private void CheckBlock(int block) => FlashGuard.Block(_g, block);

    private void CheckBuffers(int dataLength, int spareLength) => FlashGuard.Buffers(_g, dataLength, spareLength);

    private void Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (Options.ConcurrencyGuard && Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new ConcurrentDeviceAccessException("Two operations overlapped on one flash device.");
        }
    }

    private void Exit()
    {
        if (Options.ConcurrencyGuard)
        {
            Volatile.Write(ref _busy, 0);
        }
    }
}

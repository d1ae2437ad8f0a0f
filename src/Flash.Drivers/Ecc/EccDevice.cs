namespace Flash.Drivers.Ecc;

/// <summary>
/// Software ECC for raw flash without (or with disabled) hardware ECC: a decorator that computes an
/// <see cref="IEccCode"/> over every step of a page on program, stores the codes in the spare area after the free
/// bytes (by default at its end, as Linux does), and checks and corrects them on read. Reads report the bits
/// corrected and uncorrectable steps through <see cref="ReadResult"/>, as the simulator's ECC model does.
/// </summary>
/// <remarks>
/// With <see cref="HammingEcc"/> over 256-byte steps on a 2,048 + 64 byte page the layout is Linux's: bytes 0–1
/// bad-block marker, 2–39 free, 40–63 ECC with step s at 40 + 3s. Only the data area is protected; file systems keep
/// their own check over the free spare bytes. Nothing is allocated per operation.
/// </remarks>
public sealed class EccDevice : IFlashDevice
{
    private readonly IFlashDevice _inner;
    private readonly bool _ownsInner;
    private readonly int _steps;
    private readonly byte[] _spare;

    /// <summary>Creates the decorator.</summary>
    /// <param name="inner">The raw device (its own ECC off, for example a simulator with <c>EccStrength = 0</c> or an MTD device opened raw).</param>
    /// <param name="code">The code to apply per step.</param>
    /// <param name="eccOffset">First spare byte of the ECC region; by default the region ends with the spare area.</param>
    /// <param name="ownsInner">Whether disposing this device disposes <paramref name="inner"/>.</param>
    /// <exception cref="ArgumentException">The code does not fit the device's page or spare area.</exception>
    public EccDevice(IFlashDevice inner, IEccCode code, int? eccOffset = null, bool ownsInner = false)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(code);
        var g = inner.Geometry;
        if (g.SpareSize == 0)
        {
            throw new ArgumentException("Software ECC needs a spare area to store its codes.", nameof(inner));
        }

        if (g.PageSize % code.StepSize != 0)
        {
            throw new ArgumentException($"The step size {code.StepSize} does not divide the page size {g.PageSize}.", nameof(code));
        }

        _steps = g.PageSize / code.StepSize;
        int total = _steps * code.EccBytes;
        int offset = eccOffset ?? (g.SpareSize - total);
        if (offset < g.SpareFreeOffset || offset + total > g.SpareSize)
        {
            throw new ArgumentException($"{_steps} x {code.EccBytes} ECC bytes of {code.Name} do not fit the spare area of {g} after byte {g.SpareFreeOffset}.", nameof(code));
        }

        _inner = inner;
        _ownsInner = ownsInner;
        Code = code;
        EccOffset = offset;
        _spare = new byte[g.SpareSize];
        Geometry = new FlashGeometry(g.PageSize, g.SpareSize, g.PagesPerBlock, g.BlockCount, g.Kind, g.PartialPrograms,
            g.SpareFreeOffset, offset - g.SpareFreeOffset, g.SequentialPrograms);
        Statistics = new FlashStatistics(g.BlockCount, inner.Statistics.Timing) { DeviceName = inner.Statistics.DeviceName + "+" + code.Name };
    }

    /// <summary>The code applied per step.</summary>
    public IEccCode Code { get; }

    /// <summary>First spare byte of the ECC region; step s's code is at <c>EccOffset + s * Code.EccBytes</c>.</summary>
    public int EccOffset { get; }

    /// <inheritdoc />
    public FlashGeometry Geometry { get; }

    /// <inheritdoc />
    public FlashStatistics Statistics { get; }

    /// <inheritdoc />
    public ReadResult Read(int page, Span<byte> data, Span<byte> spare)
    {
        FlashGuard.Page(Geometry, page);
        FlashGuard.Buffers(Geometry, data.Length, spare.Length);
        if (data.IsEmpty)
        {
            var plain = _inner.Read(page, data, spare);
            Statistics.RecordRead(0, spare.Length, plain);
            return plain;
        }

        Span<byte> sp = spare.IsEmpty ? _spare : spare;
        var inner = _inner.Read(page, data, sp);
        int step = Code.StepSize, eccBytes = Code.EccBytes;
        int corrected = 0, worst = 0;
        bool failed = inner.Status == EccStatus.Uncorrectable;
        for (int s = 0; s < _steps; s++)
        {
            int bits = Code.Correct(data.Slice(s * step, step), sp.Slice(EccOffset + (s * eccBytes), eccBytes));
            if (bits < 0)
            {
                failed = true;
            }
            else
            {
                corrected += bits;
                worst = Math.Max(worst, bits);
            }
        }

        corrected += inner.CorrectedBits;
        worst = Math.Max(worst, inner.MaxSectorBits);
        var result = failed
            ? new ReadResult(EccStatus.Uncorrectable, corrected, worst)
            : corrected > 0 ? new ReadResult(EccStatus.Corrected, corrected, worst) : ReadResult.Clean;
        Statistics.RecordRead(data.Length, spare.Length, result);
        return result;
    }

    /// <inheritdoc />
    public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
    {
        FlashGuard.Page(Geometry, page);
        FlashGuard.Buffers(Geometry, data.Length, spare.Length);
        Span<byte> sp = _spare;
        if (spare.IsEmpty)
        {
            sp.Fill(0xFF);
        }
        else
        {
            spare.CopyTo(sp);
        }

        int step = Code.StepSize, eccBytes = Code.EccBytes;
        var region = sp.Slice(EccOffset, _steps * eccBytes);
        if (data.IsEmpty)
        {
            // No data: leave the codes erased so the page's later data program (where the part allows it) can set them.
            region.Fill(0xFF);
        }
        else
        {
            for (int s = 0; s < _steps; s++)
            {
                Code.Calculate(data.Slice(s * step, step), region.Slice(s * eccBytes, eccBytes));
            }
        }

        _inner.Program(page, data, sp);
        Statistics.RecordProgram(data.Length, spare.Length);
    }

    /// <inheritdoc />
    public void Erase(int block)
    {
        _inner.Erase(block);
        Statistics.RecordErase(block);
    }

    /// <inheritdoc />
    public bool IsBad(int block) => _inner.IsBad(block);

    /// <inheritdoc />
    public void MarkBad(int block) => _inner.MarkBad(block);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsInner)
        {
            _inner.Dispose();
        }
    }
}

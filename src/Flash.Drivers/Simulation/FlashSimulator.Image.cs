using Flash.Drivers.Ecc;

namespace Flash.Drivers.Simulation;

public sealed partial class FlashSimulator
{
    /// <summary>
    /// Writes the device image in nanddump layout: for every page of every block in order, its data then its spare,
    /// so the file can be inspected with Linux tools or written to a real part with <c>nandwrite -o</c>.
    /// </summary>
    /// <param name="destination">Stream to write to.</param>
    public void SaveImage(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Enter();
        try
        {
            foreach (var block in _blocks)
            {
                destination.Write(block);
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Writes the device image in nanddump layout with <paramref name="ecc"/>'s codes in the spare area of every page
    /// that is not erased, where <see cref="EccDevice"/> keeps them (by default at the end of the spare: with
    /// <see cref="HammingEcc"/> over 256-byte steps on 2,048 + 64 B pages, bytes 40–63, step s at 40 + 3s, which is
    /// Linux's software Hamming layout). Written to a part with <c>nandwrite --oob --noecc</c>, the image then reads
    /// back through the kernel's ECC (or an <see cref="EccDevice"/>) without errors. Erased pages stay all 0xFF.
    /// </summary>
    /// <param name="destination">Stream to write to.</param>
    /// <param name="ecc">The code to compute per step of each page's data.</param>
    /// <param name="eccOffset">First spare byte of the codes; by default they end with the spare area.</param>
    /// <exception cref="ArgumentException">The codes do not fit the spare area after its free bytes.</exception>
    public void SaveImage(Stream destination, IEccCode ecc, int? eccOffset = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(ecc);
        int steps = _g.PageSize % ecc.StepSize == 0 ? _g.PageSize / ecc.StepSize : 0;
        int total = steps * ecc.EccBytes;
        int offset = eccOffset ?? (_g.SpareSize - total);
        if (steps == 0 || offset < _g.SpareFreeOffset + _g.SpareFreeLength || offset + total > _g.SpareSize)
        {
            throw new ArgumentException($"{ecc.Name} codes ({total} bytes at spare offset {offset}) do not fit the spare area of {_g} after its free bytes {_g.SpareFreeOffset}..{_g.SpareFreeOffset + _g.SpareFreeLength - 1}.", nameof(ecc));
        }

        int stride = _g.PageSize + _g.SpareSize;
        var page = new byte[stride];
        Enter();
        try
        {
            foreach (var block in _blocks)
            {
                for (int at = 0; at < block.Length; at += stride)
                {
                    block.AsSpan(at, stride).CopyTo(page);
                    if (page.AsSpan().ContainsAnyExcept((byte)0xFF))
                    {
                        var codes = page.AsSpan(_g.PageSize + offset, total);
                        for (int step = 0; step < steps; step++)
                        {
                            ecc.Calculate(page.AsSpan(step * ecc.StepSize, ecc.StepSize), codes.Slice(step * ecc.EccBytes, ecc.EccBytes));
                        }
                    }

                    destination.Write(page);
                }
            }
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Writes the device image in nanddump layout to a file.</summary>
    /// <param name="path">File path.</param>
    public void SaveImage(string path)
    {
        using var file = File.Create(path);
        SaveImage(file);
    }

    /// <summary>
    /// Creates a simulator from a nanddump-layout image. Bad-block markers in the image are honoured; every page that
    /// is not fully erased is treated as programmed once.
    /// </summary>
    /// <param name="source">The image.</param>
    /// <param name="options">Geometry and fault model; the image must have exactly that geometry's size.</param>
    /// <returns>The simulator.</returns>
    /// <exception cref="InvalidDataException">The image length does not match the geometry.</exception>
    public static FlashSimulator LoadImage(Stream source, FlashSimulatorOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new FlashSimulatorOptions();
        var g = options.Geometry;
        int blockBytes = g.PagesPerBlock * (g.PageSize + g.SpareSize);
        long expected = (long)blockBytes * g.BlockCount;
        if (source.CanSeek && source.Length - source.Position != expected)
        {
            throw new InvalidDataException($"The image has {source.Length - source.Position} bytes; geometry {g} needs {expected} (nanddump layout: data then spare for every page).");
        }

        var blocks = new byte[g.BlockCount][];
        for (int b = 0; b < g.BlockCount; b++)
        {
            blocks[b] = new byte[blockBytes];
            int read = 0;
            while (read < blockBytes)
            {
                int n = source.Read(blocks[b], read, blockBytes - read);
                if (n == 0)
                {
                    throw new InvalidDataException($"The image ends inside block {b}; geometry {g} needs {expected} bytes.");
                }

                read += n;
            }
        }

        if (source.ReadByte() >= 0)
        {
            throw new InvalidDataException($"The image is longer than geometry {g} allows ({expected} bytes).");
        }

        var sim = new FlashSimulator(options, blocks, Enumerable.Repeat(true, g.BlockCount).ToArray());
        int stride = g.PageSize + g.SpareSize;
        for (int page = 0; page < g.PageCount; page++)
        {
            int b = page / g.PagesPerBlock, inBlock = page % g.PagesPerBlock;
            if (blocks[b].AsSpan(inBlock * stride, stride).ContainsAnyExcept((byte)0xFF))
            {
                sim._programCounts[page] = 1;
                sim._highestProgrammed[b] = inBlock;
            }
        }

        return sim;
    }

    /// <summary>Creates a simulator from a nanddump-layout image file.</summary>
    /// <param name="path">File path.</param>
    /// <param name="options">Geometry and fault model.</param>
    /// <returns>The simulator.</returns>
    public static FlashSimulator LoadImage(string path, FlashSimulatorOptions? options = null)
    {
        using var file = File.OpenRead(path);
        return LoadImage(file, options);
    }
}

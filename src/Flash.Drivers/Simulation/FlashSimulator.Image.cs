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

namespace Flash.Drivers;

/// <summary>Argument checks every <see cref="IFlashDevice"/> implementation performs before touching the device, so an argument error changes nothing.</summary>
public static class FlashGuard
{
    /// <summary>Throws unless <paramref name="page"/> exists on the geometry.</summary>
    /// <param name="geometry">The device geometry.</param>
    /// <param name="page">Page number.</param>
    /// <exception cref="ArgumentOutOfRangeException">The page does not exist.</exception>
    public static void Page(FlashGeometry geometry, int page)
    {
        if ((uint)page >= (uint)geometry.PageCount)
        {
            throw new ArgumentOutOfRangeException(nameof(page), page, $"Page must be below {geometry.PageCount}.");
        }
    }

    /// <summary>Throws unless <paramref name="block"/> exists on the geometry.</summary>
    /// <param name="geometry">The device geometry.</param>
    /// <param name="block">Block number.</param>
    /// <exception cref="ArgumentOutOfRangeException">The block does not exist.</exception>
    public static void Block(FlashGeometry geometry, int block)
    {
        if ((uint)block >= (uint)geometry.BlockCount)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, $"Block must be below {geometry.BlockCount}.");
        }
    }

    /// <summary>Throws unless the data and spare buffers are empty or exactly a page's data and spare size.</summary>
    /// <param name="geometry">The device geometry.</param>
    /// <param name="data">Data buffer length.</param>
    /// <param name="spare">Spare buffer length.</param>
    /// <exception cref="ArgumentException">A buffer has the wrong length.</exception>
    public static void Buffers(FlashGeometry geometry, int data, int spare)
    {
        if (data != 0 && data != geometry.PageSize)
        {
            throw new ArgumentException($"The data buffer must be empty or {geometry.PageSize} bytes, not {data}.", nameof(data));
        }

        if (spare != 0 && spare != geometry.SpareSize)
        {
            throw new ArgumentException($"The spare buffer must be empty or {geometry.SpareSize} bytes, not {spare}.", nameof(spare));
        }
    }
}

namespace Flash.Ffs.Mirror;

/// <summary>Reads of part of a file by absolute path (span in, no whole-file buffer), shared by the pair's ranged reads, its ranged heal and the read-back of its writes.</summary>
internal static class FileRanges
{
    /// <summary>Reads from <paramref name="offset"/> until <paramref name="destination"/> is full or the file ends.</summary>
    /// <returns>Bytes read: less than the destination's length only at the end of the file.</returns>
    public static int Read(FlashFileSystem fs, string abs, long offset, Span<byte> destination)
    {
        using var file = fs.OpenRead(abs);
        if (offset >= file.Length)
        {
            return 0;
        }

        file.Seek(offset, SeekOrigin.Begin);
        int total = 0;
        while (total < destination.Length)
        {
            int n = file.Read(destination[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}

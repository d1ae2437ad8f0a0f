using System.Buffers.Binary;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// Deterministic file contents for the workloads: every buffer is a slice of a fixed random pool chosen by a hash of
/// (file, offset, version), stamped with those three values, so a misplaced, stale or torn chunk never reads back
/// as the expected one. Regenerating the expected bytes costs a memory copy, so verifying is cheap.
/// </summary>
internal static class Payload
{
    private const int PoolBytes = 1 << 20;
    private const int MaxBuffer = 1 << 16;
    private static readonly byte[] s_pool = CreatePool();

    /// <summary>Fills <paramref name="destination"/> (at most 64 KiB) with the content of one write.</summary>
    /// <param name="destination">The buffer.</param>
    /// <param name="file">The file's number in its workload.</param>
    /// <param name="offset">The write's offset in the file.</param>
    /// <param name="version">How many times this range was written before.</param>
    public static void Fill(Span<byte> destination, int file, long offset, int version)
    {
        if (destination.Length > MaxBuffer)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), destination.Length, "At most 64 KiB per call.");
        }

        ulong h = Mix(((ulong)(uint)file << 40) ^ ((ulong)offset << 8) ^ (uint)version);
        int start = (int)(h % PoolBytes);
        s_pool.AsSpan(start, destination.Length).CopyTo(destination);
        if (destination.Length >= 16)
        {
            BinaryPrimitives.WriteInt32LittleEndian(destination, file);
            BinaryPrimitives.WriteInt64LittleEndian(destination[4..], offset);
            BinaryPrimitives.WriteInt32LittleEndian(destination[12..], version);
        }
    }

    private static byte[] CreatePool()
    {
        var pool = new byte[PoolBytes + MaxBuffer];
        ulong s = 0x9E3779B97F4A7C15UL;
        for (int i = 0; i + 8 <= pool.Length; i += 8)
        {
            s = Mix(s + 0x9E3779B97F4A7C15UL);
            BinaryPrimitives.WriteUInt64LittleEndian(pool.AsSpan(i), s);
        }

        return pool;
    }

    private static ulong Mix(ulong z)
    {
        // SplitMix64 finaliser.
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}

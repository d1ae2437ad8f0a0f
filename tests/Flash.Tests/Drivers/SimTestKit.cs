using System.Numerics;
using Flash.Drivers;
using Flash.Drivers.Simulation;

namespace Flash.Tests.Drivers;

/// <summary>Small devices and byte helpers shared by the driver tests.</summary>
internal static class SimTestKit
{
    /// <summary>A small NAND: 2,048 + 64 B pages, 8 pages a block, 16 blocks.</summary>
    public static FlashGeometry SmallNand { get; } = new(2048, 64, 8, 16);

    /// <summary>A small NOR: 256 B pages, 4 pages a sector, 8 sectors, 8 partial programs.</summary>
    public static FlashGeometry SmallNor { get; } = FlashGeometry.Nor(256, 4, 8);

    public static FlashSimulator Nand(ulong seed = 1, int eccStrength = 4, FlashGeometry? geometry = null, bool guard = true)
        => FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry ?? SmallNand, Seed = seed, EccStrength = eccStrength, ConcurrencyGuard = guard });

    public static FlashSimulator Nor(ulong seed = 1)
        => FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNor, Seed = seed, EccSectorSize = 256 });

    public static byte[] Pattern(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        Array.Fill(bytes, value);
        return bytes;
    }

    /// <summary>A spare area with the given fill whose bad-block marker bytes (0 and 1) stay erased.</summary>
    public static byte[] GoodSpare(byte fill, int length = 64)
    {
        var spare = Filled(length, fill);
        spare[0] = spare[1] = 0xFF;
        return spare;
    }

    /// <summary>A random spare area whose bad-block marker bytes stay erased.</summary>
    public static byte[] GoodSpare(int seed, int length = 64)
    {
        var spare = Pattern(length, seed);
        spare[0] = spare[1] = 0xFF;
        return spare;
    }

    public static byte[] ReadData(IFlashDevice device, int page)
    {
        var data = new byte[device.Geometry.PageSize];
        device.Read(page, data, default);
        return data;
    }

    public static byte[] ReadSpare(IFlashDevice device, int page)
    {
        var spare = new byte[device.Geometry.SpareSize];
        device.Read(page, default, spare);
        return spare;
    }

    public static byte[] Image(FlashSimulator device)
    {
        using var stream = new MemoryStream();
        device.SaveImage(stream);
        return stream.ToArray();
    }

    public static int ZeroBits(ReadOnlySpan<byte> bytes)
    {
        int zeros = 0;
        foreach (byte b in bytes)
        {
            zeros += 8 - BitOperations.PopCount(b);
        }

        return zeros;
    }

    public static int DifferentBits(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        int diff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            diff += BitOperations.PopCount((uint)(a[i] ^ b[i]));
        }

        return diff;
    }

    /// <summary>A state fingerprint: counters and the whole image.</summary>
    public static (FlashCounters Counters, long Mutations, byte[] Image) State(FlashSimulator device)
        => (device.Statistics.Capture(), device.MutationCount, Image(device));
}

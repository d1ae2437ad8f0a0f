using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>Small simulated devices and helpers shared by the file-system tests.</summary>
internal static class FfsTestDevice
{
    /// <summary>A small NAND: 2 KiB pages, 64 B spare, 16 pages a block, 64 blocks (2 MiB).</summary>
    public static FlashGeometry Small => new(2048, 64, 16, 64);

    public static FlashSimulator Create(FlashGeometry? geometry = null, ulong seed = 1, Func<FlashSimulatorOptions, FlashSimulatorOptions>? tweak = null)
    {
        var options = new FlashSimulatorOptions { Geometry = geometry ?? Small, Seed = seed };
        return FlashSimulator.Create(tweak is null ? options : tweak(options));
    }

    public static FlashFileSystem FormatAndMount(IFlashDevice device, FlashFileSystemOptions? options = null)
    {
        FlashFileSystem.Format(device, new FormatOptions { VolumeId = 0xF1A5 });
        return FlashFileSystem.Mount(device, options);
    }

    /// <summary>The page the volume's checkpoint maps chunk <paramref name="chunk"/> of the root's entry <paramref name="name"/> to.</summary>
    public static int CheckpointPageOf(IFlashDevice device, string name, uint chunk)
    {
        var entry = FlashFileSystem.ReadCheckpointImage(device).Entries.Single(e => System.Text.Encoding.UTF8.GetString(e.Name.AsSpan()) == name);
        var extent = entry.Extents.Single(x => x.Logical <= chunk && chunk < x.Logical + (uint)x.Count);
        return extent.Page + (int)(chunk - extent.Logical);
    }

    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

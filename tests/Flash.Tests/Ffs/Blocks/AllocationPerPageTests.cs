using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs.Blocks;

/// <summary>
/// Issue 19: the host cost of writing a page must not grow with the device. Time is not asserted (no timed tests);
/// what the write path allocates is, on a small and a sixteen-times larger device doing the same sequential work:
/// per-call garbage that scaled with the block table (a snapshot of it, a list of its blocks) would show here.
/// </summary>
public sealed class AllocationPerPageTests
{
    private const int WriteBytes = 4096;

    [Fact]
    public void Bytes_allocated_per_write_do_not_grow_with_the_block_count()
    {
        double small = AllocatedPerWrite(blocks: 256);
        double large = AllocatedPerWrite(blocks: 4096);

        // The same writes on 16 times the blocks: at most a quarter more (checkpoints carry a per-block table, so a
        // little growth from their buffers is allowed), never a multiple.
        Assert.True(large <= (small * 1.25) + 64, $"{large:F1} B per 4 KiB write on 4,096 blocks against {small:F1} B on 256");
    }

    /// <summary>Managed bytes this thread allocated per 4 KiB write call (closes included) after a first file warms up.</summary>
    private static double AllocatedPerWrite(int blocks)
    {
        var geometry = new FlashGeometry(1024, 32, 16, blocks, spareFreeLength: 30);
        using var device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 19 });
        FlashFileSystem.Format(device);
        var fs = FlashFileSystem.Mount(device);
        var data = new byte[WriteBytes];
        new Random(19).NextBytes(data);
        WriteFile(fs, "/warm.bin", data, 64);

        const int files = 8, writesPerFile = 64;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int f = 0; f < files; f++)
        {
            WriteFile(fs, $"/f{f}.bin", data, writesPerFile);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(data, fs.ReadAllBytes("/f7.bin").AsSpan(0, WriteBytes).ToArray());
        return (double)allocated / (files * writesPerFile);
    }

    private static void WriteFile(FlashFileSystem fs, string path, byte[] data, int writes)
    {
        using var file = fs.Open(path, FlashFileMode.CreateNew);
        for (int i = 0; i < writes; i++)
        {
            file.Write(data);
        }
    }
}

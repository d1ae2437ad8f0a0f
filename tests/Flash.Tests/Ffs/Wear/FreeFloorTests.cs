using System.Globalization;
using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Wear;

namespace Flash.Tests.Ffs.Wear;

/// <summary>
/// The free floor (<see cref="PacingPolicy.FreeFloor"/>, docs/wear.md): on a volume whose reserve is larger than four
/// blocks, collection keeps only the working blocks free, the reserve stays a capacity rule, and unmount still finds
/// the blocks for its checkpoint, so that a clean unmount is recognised even at a full volume.
/// </summary>
public sealed class FreeFloorTests
{
    /// <summary>512 blocks of 128 KiB: a reserve of 10 blocks (a fiftieth), a floor of 4.</summary>
    private const int Blocks = 512;

    private const int FileBytes = 64 * 1024;

    /// <summary>Files deleted at the full volume to make room for overwrites (the capacity shrinks a little as the checkpoint grows).</summary>
    private const int Deleted = 16;

    private static FlashGeometry Geometry => FlashGeometry.Nand128MiB.WithBlockCount(Blocks);

    private static int Reserve => Math.Max(4, Blocks / 50);

    [Fact]
    public void The_floor_is_at_most_the_working_blocks_and_never_above_the_reserve()
    {
        Assert.Equal(4, PacingPolicy.FreeFloor(20));
        Assert.Equal(4, PacingPolicy.FreeFloor(4));
        Assert.Equal(2, PacingPolicy.FreeFloor(2));
    }

    [Fact]
    public void During_a_long_overwrite_run_free_blocks_stay_at_or_above_the_floor_and_below_the_reserve()
    {
        using var device = FfsTestDevice.Create(Geometry);
        var fs = FfsTestDevice.FormatAndMount(device);
        int floor = fs.GcSpace.FreeFloor;
        Assert.Equal(4, floor);

        // 75 % of the capacity in files, then random 4 KiB overwrites: about six times the device's pages.
        int files = (int)(fs.GetStatistics().CapacityBytes * 3 / 4 / FileBytes);
        for (int f = 0; f < files; f++)
        {
            fs.WriteAllBytes(Path(f), FfsTestDevice.Pattern(FileBytes, f));
        }

        var rng = new Random(7);
        var chunk = new byte[4096];
        int minFree = int.MaxValue;
        long reclaimed0 = fs.GetStatistics().GcBlocksReclaimed;
        for (int i = 0; i < 24_000; i++)
        {
            int f = rng.Next(files);
            rng.NextBytes(chunk);
            using (var h = fs.Open(Path(f), FlashFileMode.Open))
            {
                h.Seek(rng.Next(FileBytes / chunk.Length) * chunk.Length, SeekOrigin.Begin);
                h.Write(chunk);
            }

            minFree = Math.Min(minFree, fs.GetStatistics().FreeBlocks);
        }

        Assert.True(fs.GetStatistics().GcBlocksReclaimed - reclaimed0 > Blocks, "collection ran in steady state");
        Assert.InRange(minFree, floor, Reserve - 1);
        fs.Unmount();
        fs = FlashFileSystem.Mount(device);
        Assert.False(fs.MountReport.Recovered, fs.MountReport.ToString());
        fs.Unmount();
    }

    [Fact]
    public void The_reserve_stays_out_of_the_capacity_and_a_full_volume_unmounts_clean()
    {
        using var device = FfsTestDevice.Create(Geometry);
        var fs = FfsTestDevice.FormatAndMount(device);
        var stats = fs.GetStatistics();
        long blockBytes = (long)Geometry.PageSize * Geometry.PagesPerBlock;

        // What users may fill leaves the whole reserve out (the floor did not change it).
        Assert.True(stats.CapacityBytes <= (stats.GoodBlocks - Reserve - 2) * blockBytes, $"capacity {stats.CapacityBytes}");

        int written = 0;
        void Fill()
        {
            for (; ; written++)
            {
                fs.WriteAllBytes(Path(written), FfsTestDevice.Pattern(FileBytes, written));
            }
        }

        Assert.Throws<FlashNoSpaceException>(Fill);
        Assert.True((long)written * FileBytes <= stats.CapacityBytes, $"{written} files in {stats.CapacityBytes} B");

        // Overwrites at the full volume (room for them made by deleting a few files), so that garbage sits in every
        // block, then unmount: its checkpoint finds its blocks.
        for (int f = 0; f < Deleted; f++)
        {
            fs.Delete(Path(f));
        }

        var rng = new Random(3);
        var chunk = new byte[4096];
        for (int i = 0; i < 4_000; i++)
        {
            rng.NextBytes(chunk);
            using var h = fs.Open(Path(Deleted + rng.Next(written - Deleted)), FlashFileMode.Open);
            h.Seek(rng.Next(FileBytes / chunk.Length) * chunk.Length, SeekOrigin.Begin);
            h.Write(chunk);
        }

        fs.Unmount();
        fs = FlashFileSystem.Mount(device);
        Assert.False(fs.MountReport.Recovered, fs.MountReport.ToString());
        Assert.Throws<FlashNoSpaceException>(() =>
        {
            for (int f = 0; f <= Deleted; f++)
            {
                fs.WriteAllBytes(Path(f), FfsTestDevice.Pattern(FileBytes, f));
            }
        });
        fs.Unmount();
    }

    private static string Path(int f) => string.Create(CultureInfo.InvariantCulture, $"/f{f:D5}");
}

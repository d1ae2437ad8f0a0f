using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>
/// Issue 19: the capacity a volume offers (what <see cref="FlashFileSystem.GetStatistics"/> reports and what a write
/// is refused against) keeps room for a checkpoint sized from the volume as it is now, not from the checkpoint last
/// written: the same contents give the same capacity whether the last checkpoint was a base or a delta, after a
/// clean remount, and after a power cut and recovery. A power-cut sweep of a volume filled near its capacity
/// (gc-free-floor) refused a write after recovery that the uncut run had room for.
/// </summary>
public sealed class CapacityTests
{
    private static readonly FlashFileSystemOptions s_options = new() { ReservedBlocks = 12, CheckpointIntervalBlocks = 4 };

    [Fact]
    public void Checkpoints_and_a_clean_remount_leave_the_capacity_unchanged()
    {
        using var device = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(device, s_options);
        Populate(fs);
        long capacity = fs.GetStatistics().CapacityBytes;

        // A base, then deltas (each Sync after a change), then a base again: none of them moves the capacity.
        fs.Sync();
        Assert.Equal(capacity, fs.GetStatistics().CapacityBytes);
        for (int i = 0; i < 6; i++)
        {
            using (var h = fs.Open("/big0", FlashFileMode.Open))
            {
                h.Seek(i * 4096, SeekOrigin.Begin);
                h.Write(FfsTestDevice.Pattern(4096, 100 + i));
            }

            long now = fs.GetStatistics().CapacityBytes;
            fs.Sync();
            Assert.Equal(now, fs.GetStatistics().CapacityBytes);
        }

        capacity = fs.GetStatistics().CapacityBytes;
        fs.Unmount();
        fs = FlashFileSystem.Mount(device, s_options);
        Assert.False(fs.MountReport.Recovered, fs.MountReport.ToString());
        Assert.Equal(capacity, fs.GetStatistics().CapacityBytes);

        // The first checkpoint after a mount is a base; the capacity stays.
        fs.Sync();
        Assert.Equal(capacity, fs.GetStatistics().CapacityBytes);
        fs.Unmount();
    }

    [Fact]
    public void A_power_cut_and_recovery_give_the_capacity_of_the_uncut_run_for_the_same_contents()
    {
        using var uncut = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(uncut, s_options);
        Populate(fs);
        var snapshot = uncut.Snapshot();

        // Uncut: a clean unmount and mount.
        fs.Unmount();
        fs = FlashFileSystem.Mount(uncut, s_options);
        long expected = fs.GetStatistics().CapacityBytes;
        long expectedFree = fs.GetStatistics().FreeBytes;
        fs.Unmount();

        // The same volume cut at every mutation of its unmount (inside the unmount's checkpoint, before and after
        // its anchor): whatever was written last, the recovered volume offers the same capacity.
        for (long cut = 1; ; cut++)
        {
            using var device = FlashSimulator.FromSnapshot(snapshot);
            var cutFs = FlashFileSystem.Mount(device, s_options);
            device.CutPowerAfter(cut);
            try
            {
                cutFs.Unmount();
                device.CancelPowerCut();
                break;
            }
            catch (PowerLossException)
            {
                device.PowerUp();
            }

            var recovered = FlashFileSystem.Mount(device, s_options);
            Assert.Equal(FfsTestDevice.Pattern(37 * 4096, 0), recovered.ReadAllBytes("/big0"));
            var stats = recovered.GetStatistics();
            Assert.True(expected == stats.CapacityBytes, $"cut {cut}: capacity {stats.CapacityBytes}, uncut {expected} ({recovered.MountReport})");
            Assert.True(expectedFree == stats.FreeBytes, $"cut {cut}: free {stats.FreeBytes}, uncut {expectedFree} ({recovered.MountReport})");
            recovered.Sync();
            Assert.Equal(expected, recovered.GetStatistics().CapacityBytes);
            recovered.Unmount();
        }
    }

    /// <summary>A few large files (chunk maps, overwritten so that they have several extents), small inline files and directories.</summary>
    private static void Populate(FlashFileSystem fs)
    {
        for (int f = 0; f < 4; f++)
        {
            fs.WriteAllBytes($"/big{f}", FfsTestDevice.Pattern(37 * 4096, f));
        }

        fs.CreateDirectory("/small");
        for (int f = 0; f < 40; f++)
        {
            fs.WriteAllBytes($"/small/file-with-a-longer-name-{f}", FfsTestDevice.Pattern(100 + (7 * f), 50 + f));
        }

        for (int i = 0; i < 10; i++)
        {
            using var h = fs.Open($"/big{1 + (i % 3)}", FlashFileMode.Open);
            h.Seek((i * 3 % 37) * 4096, SeekOrigin.Begin);
            h.Write(FfsTestDevice.Pattern(4096, 200 + i));
        }
    }
}

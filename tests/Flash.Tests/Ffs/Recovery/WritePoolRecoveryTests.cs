using Flash.Drivers;
using Flash.Ffs;

namespace Flash.Tests.Ffs.Recovery;

/// <summary>
/// Issue 19, the write pool: a mount after an unclean shutdown reads the tags of the pool's members and the heads'
/// blocks only, however large the device, and still finds everything written; refill anchors extend the pool when
/// writes outrun it (garbage collection on a nearly full volume).
/// </summary>
public class WritePoolRecoveryTests
{
    [Fact]
    public void An_unclean_mount_of_a_large_device_scans_the_pool_not_the_device()
    {
        using var dev = FfsTestDevice.Create(new FlashGeometry(2048, 64, 16, 1024));
        var options = new FlashFileSystemOptions { CheckpointIntervalBlocks = 4 };
        var fs = FfsTestDevice.FormatAndMount(dev, options);
        for (int i = 0; i < 60; i++)
        {
            fs.WriteAllBytes($"/f{i}", FfsTestDevice.Pattern(9000 + (i * 37), i));
        }

        int poolSize = fs.WritePool.Members.Count;
        Assert.True(fs.WritePool.Active);

        // No unmount: the next mount finds pages written after the checkpoint.
        var again = FlashFileSystem.Mount(dev, options);
        Assert.True(again.MountReport.Recovered);
        Assert.InRange(again.MountReport.BlocksScanned, 1, poolSize + 2);
        Assert.True(again.MountReport.BlocksScanned < 64, $"scanned {again.MountReport.BlocksScanned} of 1024 blocks");
        for (int i = 0; i < 60; i++)
        {
            Assert.Equal(FfsTestDevice.Pattern(9000 + (i * 37), i), again.ReadAllBytes($"/f{i}"));
        }
    }

    [Fact]
    public void Garbage_collection_on_a_nearly_full_volume_refills_the_pool_and_recovery_finds_everything()
    {
        using var dev = FfsTestDevice.Create(new FlashGeometry(2048, 64, 16, 32));
        var options = new FlashFileSystemOptions { CheckpointIntervalBlocks = 2 };
        var fs = FfsTestDevice.FormatAndMount(dev, options);
        var expected = new Dictionary<string, byte[]>();
        var rng = new Random(5);
        for (int i = 0; i < 120; i++)
        {
            string name = $"/fill{rng.Next(12)}";
            expected[name] = FfsTestDevice.Pattern(20_000 + rng.Next(8000), i);
            fs.WriteAllBytes(name, expected[name]);
        }

        Assert.True(fs.WritePool.Refills > 0, "no refill anchor was written");
        var again = FlashFileSystem.Mount(dev, options);
        foreach (var (name, data) in expected)
        {
            Assert.Equal(data, again.ReadAllBytes(name));
        }

        // Writing on after the unclean mount keeps the invariant (checked before every program in debug builds).
        for (int i = 0; i < 40; i++)
        {
            string name = $"/fill{rng.Next(12)}";
            expected[name] = FfsTestDevice.Pattern(20_000 + rng.Next(8000), 1000 + i);
            again.WriteAllBytes(name, expected[name]);
        }

        var third = FlashFileSystem.Mount(dev, options);
        foreach (var (name, data) in expected)
        {
            Assert.Equal(data, third.ReadAllBytes(name));
        }
    }
}

using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

public class FfsBasicTests
{
    [Fact]
    public void Format_mount_write_read_remount()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.CreateDirectory("/etc");
        var small = FfsTestDevice.Pattern(300, 1);
        var big = FfsTestDevice.Pattern(100_000, 2);
        fs.WriteAllBytes("/etc/small.cfg", small);
        fs.WriteAllBytes("/big.bin", big);
        Assert.Equal(small, fs.ReadAllBytes("/etc/small.cfg"));
        Assert.Equal(big, fs.ReadAllBytes("/big.bin"));
        fs.Unmount();

        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(small, fs.ReadAllBytes("/etc/small.cfg"));
        Assert.Equal(big, fs.ReadAllBytes("/big.bin"));
        Assert.Equal(["big.bin", "etc"], fs.ListDirectory("/").Select(e => e.Name));
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }

    [Fact]
    public void Handle_writes_survive_unclean_shutdown_after_flush()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var data = FfsTestDevice.Pattern(50_000, 3);
        using (var f = fs.Open("/log.bin", FlashFileMode.Create))
        {
            f.Write(data.AsSpan(0, 10_000));
            f.Write(data.AsSpan(10_000));
        }

        using (var f = fs.Open("/log.bin"))
        {
            f.Position = 4096;
            f.Write(new byte[4096]);
            f.Flush();
        }

        Array.Clear(data, 4096, 4096);
        dev.CutPower();
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(data, fs.ReadAllBytes("/log.bin"));
        var report = fs.Check();
        Assert.True(report.IsClean, report.ToString());
    }

    [Fact]
    public void Unflushed_writes_vanish_after_power_cut()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/a", FfsTestDevice.Pattern(9000, 4));
        var f = fs.Open("/a");
        f.Write(new byte[9000]);
        dev.CutPower();
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(FfsTestDevice.Pattern(9000, 4), fs.ReadAllBytes("/a"));
    }

    [Fact]
    public void Many_overwrites_force_gc_and_data_stays_right()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var model = new Dictionary<string, byte[]>();
        var rng = new Random(5);
        for (int i = 0; i < 600; i++)
        {
            string name = "/f" + rng.Next(12);
            var data = FfsTestDevice.Pattern(rng.Next(0, 60_000), i);
            fs.WriteAllBytes(name, data);
            model[name] = data;
        }

        foreach (var (name, data) in model)
        {
            Assert.Equal(data, fs.ReadAllBytes(name));
        }

        Assert.True(fs.GetStatistics().GcBlocksReclaimed > 0);
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        foreach (var (name, data) in model)
        {
            Assert.Equal(data, fs.ReadAllBytes(name));
        }

        Assert.True(fs.Check().IsClean);
    }
}

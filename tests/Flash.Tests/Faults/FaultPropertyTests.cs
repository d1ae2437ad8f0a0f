using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Tests.PowerLoss;

namespace Flash.Tests.Faults;

/// <summary>One property per fault other than power loss: bit flips, uncorrectable pages, grown bad blocks, wear-out, read disturb.</summary>
public class FaultPropertyTests
{
    private static FlashGeometry Geometry => new(2048, 64, 16, 64);

    private static (FlashSimulator Dev, FlashFileSystem Fs, Dictionary<string, byte[]> Files) Volume(Func<FlashSimulatorOptions, FlashSimulatorOptions>? tweak = null, FlashFileSystemOptions? options = null)
    {
        var o = new FlashSimulatorOptions { Geometry = Geometry, Seed = 9 };
        var dev = FlashSimulator.Create(tweak is null ? o : tweak(o));
        FlashFileSystem.Format(dev);
        var fs = FlashFileSystem.Mount(dev, options);
        var files = new Dictionary<string, byte[]>();
        for (int i = 0; i < 6; i++)
        {
            files[$"/f{i}"] = Data.Pattern(3000 + (i * 5000), i);
            fs.WriteAllBytes($"/f{i}", files[$"/f{i}"]);
        }

        return (dev, fs, files);
    }

    private static IEnumerable<int> ProgrammedPages(FlashSimulator dev)
    {
        for (int p = 0; p < dev.Geometry.PageCount; p++)
        {
            if (dev.ProgramCountOf(p) > 0)
            {
                yield return p;
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Bit_flips_within_ecc_limits_return_correct_data_and_are_scrubbed(int bits)
    {
        var (dev, fs, files) = Volume();
        fs.Sync(); // a checkpoint covers the blocks, so scrubbing may move them
        foreach (int p in ProgrammedPages(dev))
        {
            dev.InjectBitFlips(p, bits, sector: 0);
        }

        foreach (var (path, data) in files)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }

        fs.Maintain(new MaintenanceBudget(MaxPages: 100_000));
        if (bits >= 2)
        {
            Assert.True(fs.GetStatistics().PagesScrubbed > 0);
        }

        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        foreach (var (path, data) in files)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }

        fs.Unmount();
    }

    [Fact]
    public void Uncorrectable_pages_give_a_clear_error_never_wrong_data()
    {
        var (dev, fs, files) = Volume();
        fs.Unmount();
        var rng = new Random(4);
        var pages = ProgrammedPages(dev).ToList();
        for (int k = 0; k < 10; k++)
        {
            dev.InjectBitFlips(pages[rng.Next(pages.Count)], 12, sector: 0);
        }

        try
        {
            fs = FlashFileSystem.Mount(dev);
        }
        catch (FileSystemCorruptException)
        {
            return; // the damage hit the anchor or checkpoint: the documented outcome
        }

        foreach (var (path, data) in files)
        {
            try
            {
                Assert.Equal(data, fs.ReadAllBytes(path));
            }
            catch (FlashDataCorruptException ex)
            {
                Assert.Equal(path, ex.Path);
            }
        }

        fs.Check();
        fs.Unmount();
    }

    [Fact]
    public void Program_failures_retire_the_block_and_lose_nothing()
    {
        var (dev, fs, files) = Volume();
        for (int b = 3; b < Geometry.BlockCount; b += 5)
        {
            dev.ScheduleProgramFailure((b * Geometry.PagesPerBlock) + 2);
        }

        ChurnRemountAndVerifyRetirement(dev, fs, files, writes: 40, fileCount: 5, size: 7000, seed: 100);
    }

    [Fact]
    public void Erase_failures_retire_the_block_and_lose_nothing()
    {
        var (dev, fs, files) = Volume();
        for (int b = 2; b < Geometry.BlockCount; b += 3)
        {
            dev.ScheduleEraseFailure(b);
        }

        ChurnRemountAndVerifyRetirement(dev, fs, files, writes: 150, fileCount: 4, size: 20_000, seed: 200);
    }

    /// <summary>Rewrites files under scheduled failures, remounts, and checks every file, a retired block and a clean fsck.</summary>
    private static void ChurnRemountAndVerifyRetirement(FlashSimulator dev, FlashFileSystem fs, Dictionary<string, byte[]> files, int writes, int fileCount, int size, int seed)
    {
        for (int i = 0; i < writes; i++)
        {
            string path = $"/g{i % fileCount}";
            files[path] = Data.Pattern(size, seed + i);
            fs.WriteAllBytes(path, files[path]);
        }

        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        foreach (var (path, data) in files)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }

        Assert.True(fs.GetStatistics().BadBlocks > 0);
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }

    [Fact]
    public void Blocks_wearing_out_are_retired_and_acknowledged_data_stays()
    {
        var (dev, fs, files) = Volume(o => new FlashSimulatorOptions { Geometry = o.Geometry, Seed = o.Seed, EnduranceCycles = 4 });
        for (int i = 0; i < 1000; i++)
        {
            string path = $"/g{i % 3}";
            var data = Data.Pattern(12_000, 300 + i);
            try
            {
                fs.WriteAllBytes(path, data);
                files[path] = data;
            }
            catch (FlashNoSpaceException)
            {
                break; // worn out: refusing is fine, losing data is not
            }
        }

        try
        {
            fs.Unmount();
        }
        catch (FlashNoSpaceException)
        {
            // No block left for the final checkpoint: the next mount recovers from the log instead.
        }

        fs = FlashFileSystem.Mount(dev);
        foreach (var (path, data) in files)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }

        Assert.True(fs.GetStatistics().BadBlocks > 0);
        try
        {
            fs.Unmount();
        }
        catch (FlashNoSpaceException)
        {
        }
    }

    [Fact]
    public void Read_disturb_is_corrected_and_scrubbed()
    {
        var (dev, fs, files) = Volume(o => new FlashSimulatorOptions { Geometry = o.Geometry, Seed = o.Seed, ReadDisturbThreshold = 2000 });
        for (int round = 0; round < 60; round++)
        {
            foreach (var (path, data) in files)
            {
                Assert.Equal(data, fs.ReadAllBytes(path));
            }

            if (round % 10 == 9)
            {
                fs.Maintain(new MaintenanceBudget(MaxPages: 10_000));
            }
        }

        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        foreach (var (path, data) in files)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }

        fs.Unmount();
    }
}

using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Wear;

namespace Flash.Tests.Ffs.Wear;

/// <summary>
/// Garbage collection packs small files: inline data written one file per page is moved several to a page, so the
/// volume holds many more small files than it has pages, and everything survives a remount.
/// </summary>
public sealed class InlinePackingTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 16, 64);

    private static byte[] Content(int i)
    {
        var data = new byte[256];
        for (int k = 0; k < data.Length; k++)
        {
            data[k] = (byte)((i * 31) + k);
        }

        return data;
    }

    [Fact]
    public void A_volume_of_small_files_holds_several_times_its_page_count()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 7 });
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 1 });
        var fs = FlashFileSystem.Mount(dev);
        int files = 0;
        try
        {
            for (; files < 100_000; files++)
            {
                if (files % 100 == 0)
                {
                    fs.CreateDirectory($"/d{files / 100}");
                }

                fs.WriteAllBytes($"/d{files / 100}/f{files}", Content(files));
            }
        }
        catch (FlashNoSpaceException)
        {
        }

        int pages = s_geometry.BlockCount * s_geometry.PagesPerBlock;
        Assert.True(files > 3 * pages, $"{files} files of 256 B on {pages} pages: inline data is not packed");
        fs.Unmount();

        var again = FlashFileSystem.Mount(dev);
        for (int i = 0; i < files; i++)
        {
            Assert.Equal(Content(i), again.ReadAllBytes($"/d{i / 100}/f{i}"));
        }

        Assert.True(again.Check().IsClean);
        again.Unmount();
    }

    [Fact]
    public void Small_files_deleted_and_rewritten_after_packing_read_back_and_free_their_space()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 8 });
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 1 });
        var fs = FlashFileSystem.Mount(dev);
        var live = new Dictionary<int, int>();
        var rng = new Random(5);
        for (int round = 0; round < 4000; round++)
        {
            int name = rng.Next(1500);
            if (live.ContainsKey(name) && rng.Next(3) == 0)
            {
                fs.Delete($"/f{name}");
                live.Remove(name);
            }
            else
            {
                fs.WriteAllBytes($"/f{name}", Content(round));
                live[name] = round;
            }
        }

        Assert.True(fs.GetStatistics().GcPagesMoved > 0, "the workload never needed garbage collection");
        foreach (var (name, round) in live)
        {
            Assert.Equal(Content(round), fs.ReadAllBytes($"/f{name}"));
        }

        fs.Unmount();
        var again = FlashFileSystem.Mount(dev);
        foreach (var (name, round) in live)
        {
            Assert.Equal(Content(round), again.ReadAllBytes($"/f{name}"));
        }

        Assert.True(again.Check().IsClean);
        again.Unmount();
    }
}

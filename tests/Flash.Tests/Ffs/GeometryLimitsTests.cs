using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Tests.PowerLoss;

namespace Flash.Tests.Ffs;

/// <summary>Small-page NAND holds a volume; geometries that cannot are refused with the exact reason.</summary>
public class GeometryLimitsTests
{
    [Fact]
    public void Small_page_nand_formats_fills_and_remounts()
    {
        var g = Workloads.SmallPage;
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = g, Seed = 2 });
        var fs = FfsTestDevice.FormatAndMount(dev);
        Assert.Equal(480, fs.ChunkSize);
        var files = new Dictionary<string, byte[]>();
        for (int i = 0; i < 40; i++)
        {
            string path = $"/{new string('n', 200)}{i % 10}";
            files[path] = Data.Pattern(i * 977 % 20_000, i);
            fs.WriteAllBytes(path, files[path]);
        }

        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        foreach (var (path, data) in files)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }

        Assert.True(fs.Check().IsClean);
    }

    [Fact]
    public void Too_few_blocks_are_refused_with_the_count_needed()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(512, 16, 32, 12, spareFreeOffset: 8, spareFreeLength: 8) });
        var ex = Assert.Throws<FlashFileSystemException>(() => FlashFileSystem.Format(dev));
        Assert.Contains("it has 12 blocks and a volume needs at least 16", ex.Message);
    }

    [Fact]
    public void Pages_too_small_for_a_metadata_record_are_refused_with_the_payload_they_carry()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(256, 8, 32, 64, spareFreeOffset: 0, spareFreeLength: 8), EccSectorSize = 256 });
        var ex = Assert.Throws<FlashFileSystemException>(() => FlashFileSystem.Format(dev));
        Assert.Contains("a page carries 224 bytes of payload", ex.Message);
        Assert.Contains("the spare area has 8 free bytes, fewer than 32", ex.Message);
        Assert.Contains("needs at least 372", ex.Message);
    }
}

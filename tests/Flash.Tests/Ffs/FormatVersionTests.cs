using System.IO.Compression;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>
/// Volumes of format version 1 (anchors listing every checkpoint page, checkpoints without the open-transaction list)
/// still mount, clean or after a power cut, and are written in version 2 from then on. The fixtures were written by
/// the library at commit 573b7c1: a directory, an inline and a chunked file, unmounted cleanly; then a new file and a
/// rename, and a power cut.
/// </summary>
public sealed class FormatVersionTests
{
    private static FlashSimulator Fixture(string name)
    {
        using var resource = typeof(FormatVersionTests).Assembly.GetManifestResourceStream($"Fixtures.{name}.img.gz")
            ?? throw new InvalidOperationException($"Fixture {name} is missing.");
        using var gz = new GZipStream(resource, CompressionMode.Decompress);
        using var image = new MemoryStream();
        gz.CopyTo(image);
        image.Position = 0;
        return FlashSimulator.LoadImage(image, new FlashSimulatorOptions { Geometry = FfsTestDevice.Small, Seed = 1 });
    }

    [Fact]
    public void A_clean_version_1_volume_mounts_and_is_written_in_version_2()
    {
        using var dev = Fixture("v1-clean");
        var fs = FlashFileSystem.Mount(dev);
        Assert.Equal(FfsTestDevice.Pattern(300, 1), fs.ReadAllBytes("/etc/a"));
        Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        Assert.True(fs.Check().IsClean);
        fs.WriteAllBytes("/new", FfsTestDevice.Pattern(7000, 4));
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(FfsTestDevice.Pattern(7000, 4), fs.ReadAllBytes("/new"));
        Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        fs.Unmount();
    }

    [Fact]
    public void A_version_1_volume_cut_off_after_changes_recovers_them()
    {
        using var dev = Fixture("v1-unclean");
        var fs = FlashFileSystem.Mount(dev);
        Assert.False(fs.Exists("/etc/a"));
        Assert.Equal(FfsTestDevice.Pattern(300, 1), fs.ReadAllBytes("/etc/renamed"));
        Assert.Equal(FfsTestDevice.Pattern(5000, 3), fs.ReadAllBytes("/c"));
        Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }
}

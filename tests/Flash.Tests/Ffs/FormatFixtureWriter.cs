using System.IO.Compression;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>
/// Writes the format fixtures <see cref="FormatVersionTests"/> mounts, in the current format version: the history
/// its summary describes (directories, inline, chunked and three-chunk files, a chunk lost to a repairing check, a clean
/// unmount; then an open handle listed in periodic checkpoints, new files, a rename and a power cut). Run it before a
/// format change, with <c>FLASH_WRITE_FIXTURES</c> naming a directory, and add the two images as
/// <c>v{N}-clean.img.gz</c> and <c>v{N}-unclean.img.gz</c>: every version's fixtures come from this one history.
/// </summary>
public sealed class FormatFixtureWriter
{
    [Fact]
    public void Writes_the_current_version_fixtures()
    {
        string? directory = Environment.GetEnvironmentVariable("FLASH_WRITE_FIXTURES");
        Assert.SkipWhen(string.IsNullOrEmpty(directory), "FLASH_WRITE_FIXTURES is not set: no fixtures to write (set it to a directory before a format change).");
        int version = Flash.Ffs.Format.CheckpointCodec.Version;

        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = FfsTestDevice.Small, Seed = 1 });
        using (var fs = FfsTestDevice.FormatAndMount(dev))
        {
            fs.CreateDirectory("/etc");
            fs.CreateDirectory("/d");
            fs.CreateDirectory("/d/deep");
            fs.WriteAllBytes("/etc/a", FfsTestDevice.Pattern(300, 1));
            fs.WriteAllBytes("/b", FfsTestDevice.Pattern(20_000, 2));
            fs.WriteAllBytes("/d/deep/x", FfsTestDevice.Pattern(5000, 7));
            fs.WriteAllBytes("/h2", FfsTestDevice.Pattern(4000, 6));
            fs.WriteAllBytes("/l", FfsTestDevice.Pattern(3 * fs.ChunkSize, 8));
        }

        dev.InjectBitFlips(FfsTestDevice.CheckpointPageOf(dev, "l", 1), 64, sector: 0);
        using (var fs = FlashFileSystem.Mount(dev))
        {
            Assert.All(fs.Check(repair: true).Problems, p => Assert.True(p.Repaired, p.Message));
        }

        Save(dev, Path.Combine(directory!, $"v{version}-clean.img.gz"));

        var interval = new FlashFileSystemOptions { CheckpointIntervalBlocks = 2 };
        var open = FlashFileSystem.Mount(dev, interval);
        var handle = open.Open("/h2");
        handle.Write(FfsTestDevice.Pattern(100, 9));
        for (int i = 0; i < 12; i++)
        {
            open.WriteAllBytes($"/f{i}", FfsTestDevice.Pattern(6000, 100 + i));
        }

        open.WriteAllBytes("/c", FfsTestDevice.Pattern(5000, 3));
        open.Rename("/etc/a", "/etc/renamed");
        dev.CutPower();
        dev.PowerUp();
        Assert.NotEmpty(FlashFileSystem.ReadCheckpointImage(dev).OpenTransactions);
        Save(dev, Path.Combine(directory!, $"v{version}-unclean.img.gz"));
    }

    private static void Save(FlashSimulator dev, string path)
    {
        using var image = new MemoryStream();
        dev.SaveImage(image);
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.SmallestSize);
        image.Position = 0;
        image.CopyTo(gz);
    }
}

using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;

namespace Flash.Tests.Contexts;

/// <summary>
/// The same context operations on a fresh volume give the same device image, byte for byte: the image hash was
/// recorded before ContextStore was split into its parts (issue 18). A change of this hash is a change of the
/// on-flash format (of the context layer or of the file system below it) and needs a format version.
/// </summary>
public sealed class ContextStoreImageTests
{
    private const string ImageSha256 = "5195A1E4EED04A6425154BAAA561CF1C5D32FC80D4A62AD01A2449BB80F4CC16";

    [Fact]
    public void A_fixed_history_gives_the_recorded_image()
    {
        string actual = RunHistory();
        Assert.True(ImageSha256 == actual, $"context store image changed: expected {ImageSha256}, got {actual}");
    }

    internal static string RunHistory()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, 16, 64), Seed = 11 });
        ContextStore.Format(dev, new FormatOptions { VolumeId = 0x18C0FFEE, Label = "i18c" });
        using (var store = ContextStore.Mount(dev))
        {
            store.WriteAlternate("components/cpu.bin", Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray());
            store.WriteAlternate([new("sgc.map", "map"u8.ToArray()), new("config/node.cfg", "a=1"u8.ToArray())]);
            store.DeleteAlternate("sgc.map");
            store.MarkAlternateComplete("R1.0");
            store.SetAlternateBoot(3);
            store.ConsumeBootRetry();
            store.SwitchContexts(trial: true);
            store.ConfirmCurrent();
            store.WriteCurrentConfiguration([new("config/node.cfg", "a=2"u8.ToArray())]);
            store.WriteAlternate("components/fpga.bit", new byte[3000]);
            store.ClearAlternate();
            store.WriteAlternate("components/cpu.bin", new byte[100]);
            store.MarkAlternateComplete("R2.0");
            store.SwitchContexts();
            store.Invalidate(store.Alternate);
        }

        using var image = new MemoryStream();
        dev.SaveImage(image);
        return Convert.ToHexString(SHA256.HashData(image.ToArray()));
    }
}

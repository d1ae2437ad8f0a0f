using Flash.Drivers;
using Flash.Drivers.Ecc;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Drivers;

/// <summary>
/// <c>SaveImage</c> with Linux software-Hamming ECC bytes: the codes sit where <see cref="EccDevice"/> (and the kernel)
/// keep them, so the image reads clean through ECC, corrects a flipped bit, and still loads as a nanddump.
/// </summary>
public class SimulatorImageEccTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 64, 24);

    private static (byte[] Plain, byte[] WithEcc, Dictionary<string, byte[]> Files) Volume()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 5 });
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xECC0 });
        var fs = FlashFileSystem.Mount(dev);
        var files = new Dictionary<string, byte[]>
        {
            ["/cfg"] = Flash.Tests.PowerLoss.Data.Pattern(300, 1),
            ["/image.bin"] = Flash.Tests.PowerLoss.Data.Pattern(70_000, 2),
        };
        foreach (var (path, data) in files)
        {
            fs.WriteAllBytes(path, data);
        }

        fs.Unmount();
        using var plain = new MemoryStream();
        dev.SaveImage(plain);
        using var withEcc = new MemoryStream();
        dev.SaveImage(withEcc, new HammingEcc(256));
        return (plain.ToArray(), withEcc.ToArray(), files);
    }

    [Fact]
    public void Programmed_pages_carry_the_hamming_codes_at_40_plus_3s_and_erased_pages_stay_erased()
    {
        var (plain, withEcc, _) = Volume();
        var hamming = new HammingEcc(256);
        int raw = s_geometry.PageSize + s_geometry.SpareSize;
        Span<byte> code = stackalloc byte[3];
        int programmed = 0;
        for (int p = 0; p < s_geometry.PageCount; p++)
        {
            var page = withEcc.AsSpan(p * raw, raw);
            var original = plain.AsSpan(p * raw, raw);
            if (!original.ContainsAnyExcept((byte)0xFF))
            {
                Assert.False(page.ContainsAnyExcept((byte)0xFF), $"erased page {p} changed");
                continue;
            }

            programmed++;
            Assert.True(page[..(2048 + 40)].SequenceEqual(original[..(2048 + 40)]), $"page {p}: data or free spare changed");
            for (int s = 0; s < 8; s++)
            {
                hamming.Calculate(page.Slice(s * 256, 256), code);
                Assert.True(code.SequenceEqual(page.Slice(2048 + 40 + (3 * s), 3)), $"page {p} step {s}");
            }
        }

        Assert.True(programmed > 40);
    }

    [Fact]
    public void The_image_mounts_through_software_ecc_which_corrects_a_flipped_bit()
    {
        var (_, withEcc, files) = Volume();
        int raw = s_geometry.PageSize + s_geometry.SpareSize;

        // One flipped data bit in every programmed page: the ECC must correct each.
        for (int p = 0; p < s_geometry.PageCount; p++)
        {
            if (withEcc.AsSpan(p * raw, raw).ContainsAnyExcept((byte)0xFF))
            {
                withEcc[(p * raw) + (p % 2048)] ^= 0x08;
            }
        }

        using var raw0 = FlashSimulator.LoadImage(new MemoryStream(withEcc), new FlashSimulatorOptions { Geometry = s_geometry, EccStrength = 0 });
        using var ecc = new EccDevice(raw0, new HammingEcc(256));
        var fs = FlashFileSystem.Mount(ecc, new FlashFileSystemOptions { ReadOnly = true });
        foreach (var (path, data) in files)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }

        Assert.True(fs.Check().IsClean);
    }

    [Fact]
    public void Codes_that_do_not_fit_after_the_free_spare_bytes_are_refused()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, 64, 24, spareFreeLength: 50) });
        var ex = Assert.Throws<ArgumentException>(() => dev.SaveImage(new MemoryStream(), new HammingEcc(256)));
        Assert.Contains("do not fit", ex.Message);
    }
}

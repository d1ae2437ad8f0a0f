#if FLASH_FFS
using Flash.Drivers;
using Flash.Drivers.Ecc;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Tests.Mtd;

namespace Flash.Tools.MtdCheck;

/// <summary>
/// The round trip of a saved image through the kernel (docs/mtd.md, "Images for Linux tools"): <c>--write-ecc-image
/// PATH</c> builds a volume on a simulator with the nandsim geometry (first 64 blocks) and saves it with the
/// software-Hamming codes; the VM writes it with <c>nandwrite -o -n</c> and dumps it with <c>nanddump -o</c> (ECC
/// on); <c>--verify-ecc-image IMAGE DUMP</c> then checks that the dump holds the image's bytes and mounts with every
/// file intact. The content is a fixed function of the file index, so both steps know it without sharing state.
/// </summary>
internal static class EccImageCheck
{
    /// <summary>Blocks of the image: 8 MiB of the 128 MiB nandsim, enough for a volume and quick under TCG.</summary>
    public const int Blocks = 64;

    private static readonly FlashGeometry s_geometry = new(2048, 64, 64, Blocks);

    private static IEnumerable<(string Path, byte[] Data)> Files()
    {
        for (int i = 0; i < 24; i++)
        {
            // Inline (under a quarter page) and chunked files, some in a directory.
            var data = new byte[i % 3 == 0 ? 100 + i : 1500 + (i * 2711)];
            new Random(1000 + i).NextBytes(data);
            yield return (i % 4 == 0 ? $"/dir/file{i}" : $"/file{i}", data);
        }
    }

    public static void Write(MtdChecks checks, string path)
    {
        checks.Check($"ecc-image: volume saved with software-Hamming codes ({Blocks} blocks) to {path}", () =>
        {
            using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 16 });
            FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0x16EC });
            var fs = FlashFileSystem.Mount(dev);
            fs.CreateDirectory("/dir");
            foreach (var (name, data) in Files())
            {
                fs.WriteAllBytes(name, data);
            }

            fs.Unmount();
            using var file = File.Create(path);
            dev.SaveImage(file, new HammingEcc(256));
        });
    }

    public static void Verify(MtdChecks checks, string imagePath, string dumpPath)
    {
        checks.Check("ecc-image: nanddump (ECC on) returns the image's bytes, data and OOB", () =>
        {
            var image = File.ReadAllBytes(imagePath);
            var dump = File.ReadAllBytes(dumpPath);
            if (dump.Length != image.Length)
            {
                throw new InvalidOperationException($"the dump has {dump.Length} bytes, the image {image.Length}");
            }

            int stride = s_geometry.PageSize + s_geometry.SpareSize;
            int data = 0, oob = 0;
            for (int p = 0; p < image.Length / stride; p++)
            {
                var a = image.AsSpan(p * stride, stride);
                var b = dump.AsSpan(p * stride, stride);
                data += a[..s_geometry.PageSize].SequenceEqual(b[..s_geometry.PageSize]) ? 0 : 1;
                oob += a[s_geometry.PageSize..].SequenceEqual(b[s_geometry.PageSize..]) ? 0 : 1;
            }

            if (data != 0 || oob != 0)
            {
                throw new InvalidOperationException($"{data} page(s) differ in data, {oob} in OOB");
            }
        });

        checks.Check("ecc-image: the dump mounts (LoadImage) with every file intact and Check() clean", () =>
        {
            using var dev = FlashSimulator.LoadImage(dumpPath, new FlashSimulatorOptions { Geometry = s_geometry });
            var fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { ReadOnly = true });
            if (fs.MountReport.Recovered)
            {
                throw new InvalidOperationException($"the volume was unmounted cleanly, the mount says {fs.MountReport}");
            }

            foreach (var (name, data) in Files())
            {
                if (!fs.ReadAllBytes(name).AsSpan().SequenceEqual(data))
                {
                    throw new InvalidOperationException($"{name} differs");
                }
            }

            var report = fs.Check();
            if (!report.IsClean)
            {
                throw new InvalidOperationException($"Check() found {report.Problems.Count} problem(s): {report.Problems[0]}");
            }

            fs.Unmount();
        });
    }
}
#endif

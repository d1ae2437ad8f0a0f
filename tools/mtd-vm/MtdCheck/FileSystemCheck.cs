#if FLASH_FFS
using Flash.Drivers;
using Flash.Drivers.Mtd;
using Flash.Ffs;
using Flash.Tests.Mtd;

namespace Flash.Tools.MtdCheck;

/// <summary>Formats the file system on the MTD device, fills it, unmounts, mounts again and verifies every file.</summary>
internal static class FileSystemCheck
{
    public static void Run(MtdChecks checks, string path)
    {
        checks.Check("fs: format, fill, unmount, mount again and read back on MTD", () =>
        {
            using var mtd = MtdDevice.Open(path);
            // The first 256 blocks (32 MiB on nandsim) keep the run short under an emulated CPU.
            using var dev = FlashPartition.Create(mtd, 0, Math.Min(256, mtd.Geometry.BlockCount - 8));
            FlashFileSystem.Format(dev);
            var files = new Dictionary<string, byte[]>();
            var fs = FlashFileSystem.Mount(dev);
            for (int i = 0; i < 40; i++)
            {
                var data = new byte[1000 + (i * 3001)];
                new Random(i).NextBytes(data);
                string name = $"/file{i}.bin";
                fs.WriteAllBytes(name, data);
                files[name] = data;
            }

            fs.Unmount();
            fs = FlashFileSystem.Mount(dev);
            foreach (var (name, data) in files)
            {
                if (!fs.ReadAllBytes(name).AsSpan().SequenceEqual(data))
                {
                    throw new InvalidOperationException($"{name} differs after remount");
                }
            }

            fs.Unmount();
        });
    }
}
#endif

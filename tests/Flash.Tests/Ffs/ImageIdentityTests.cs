using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>
/// The on-flash format must not change while the file system's internals are restructured (issue 18): fixed
/// operation sequences on fresh volumes of every supported geometry (with checkpoints, garbage collection, wear
/// levelling, a transaction, a power cut and its recovery, remounts) must leave device images whose SHA-256 equals
/// the golden values recorded from the code before the restructuring. A mismatch means a refactoring changed what is
/// written (or in which order), which this issue does not allow.
/// </summary>
public sealed class ImageIdentityTests
{
    /// <summary>
    /// Per phase (after the first run, after the power-cut recovery, at the end) the image's SHA-256 and the device's
    /// mutation count (programs and erases issued), recorded at main cd338d5 and re-recorded for issue 19, whose
    /// incremental free-block choice breaks ties between equally worn blocks by the one free longest instead of the
    /// lowest-numbered, and whose full checkpoints erase a free block for a reservation no erased block was left for
    /// and whose checkpoint blocks are erased one at a time as the checkpoint reaches them, and again for issue 19's
    /// garbage collection (greedy victims, paced foreground collection, checkpoint slices that count a new block as
    /// 8 pages), which changes which blocks are collected when (behaviour changes, which the byte-identity rule of
    /// issue 18's refactors does not bind).
    /// </summary>
    private static readonly Dictionary<string, string> s_golden = new()
    {
        ["nand-2k"] =
            "4A2307B4307EE7795B9CF4C9221E70352BCFC6A52517A0090413BE6E61318B74:1557/417918C4D563E564AFBF52768FFB74F0C626760382C680A0C5170E179218675D:2257/3EDB574A2CC0CD344BFE7BC6E47156E4BB09C2A7D1437E7713F0418708AE56B2:2263",
        ["nand-4k"] =
            "8C81221F6956E9ADA6A51EDBCE829D6B715320C3763527AE2F2ABED772BABFD2:1826/C8DED8871D4E7DF4582FE02C440C59257B9980BB7ACFAFBBBB547FF0F4BCBEE5:2606/BF45D19E85BEF169CDC7B3AFDB0A8A2F19798C76C1E2CCDDA6A5AB3D69BD922B:2612",
        ["nor"] =
            "812C00DB7886311FCD6968F6F32DE720D21C55F2F369D1569EEA24CDD907080D:11036/1BF89A1D5F6B3844CEC74E211D9E13BBBE944D82958A7C412EFADA7AF298412E:15801/0E2AD16FFC906DE5D026FDA950F6B9E81BBEB3A919301BA96EA2F8246824E804:15809",
        ["small-page"] =
            "235A290E37D86FCDA8994A21AC19AFC6B9AC0B9A08C400E7E9C5C23D8AC80AB4:14291/33B7E8916C3E8CDCF9895AB89B0E09623BE6977592EDB99D0D9E0192A58B5752:21217/3A88288491BDB1B7B1920319817E1B8950B4C3CDB930C85D340E641D16A2B227:21238",
    };

    public static TheoryData<string> Geometries => ["nand-2k", "nand-4k", "nor", "small-page"];

    private static FlashGeometry GeometryOf(string name) => name switch
    {
        "nand-2k" => new FlashGeometry(2048, 64, 16, 32),
        "nand-4k" => new FlashGeometry(4096, 128, 16, 32, spareFreeLength: 78),
        "nor" => FlashGeometry.Nor(1024, 64, 48),
        "small-page" => new FlashGeometry(512, 16, 32, 96, spareFreeOffset: 8, spareFreeLength: 8),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Geometries))]
    public void The_same_operations_on_a_fresh_volume_give_the_recorded_image(string geometry)
    {
        string actual = Run(GeometryOf(geometry));
        Assert.True(s_golden[geometry] == actual, $"{geometry}: image hashes changed: expected {s_golden[geometry]}, got {actual}");
    }

    /// <summary>Runs the fixed sequence and returns the phase hashes, joined by '/'.</summary>
    private static string Run(FlashGeometry geometry)
    {
        var hashes = new List<string>();
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 7, FactoryBadBlocks = [5] });
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0x18A, Label = "identity" });
        var options = new FlashFileSystemOptions { CheckpointIntervalBlocks = 4, MaxForegroundPagesPerOperation = 8, WearLevelingThreshold = 1 };
        var fs = FlashFileSystem.Mount(dev, options);
        int chunk = fs.ChunkSize;

        // Namespace, inline and chunked files, a directory tree.
        fs.CreateDirectory("/etc");
        fs.CreateDirectory("/var");
        fs.CreateDirectory("/var/log");
        for (int i = 0; i < 12; i++)
        {
            fs.WriteAllBytes($"/etc/cfg{i}", FfsTestDevice.Pattern(40 + (i * 37), i));
        }

        fs.WriteAllBytes("/big", FfsTestDevice.Pattern((chunk * 9) + 123, 100));
        long capacity = fs.GetStatistics().CapacityBytes;
        fs.WriteAllBytes("/cold", FfsTestDevice.Pattern((int)(capacity * 2 / 5), 101));
        int churn = (int)(capacity * 3 / (chunk * 5 / 2));
        fs.Rename("/etc/cfg3", "/etc/renamed");
        fs.Delete("/etc/cfg4");
        fs.Sync();

        // A handle: appends, an overwrite in place, a truncate, flushes.
        using (var log = fs.Open("/var/log/app", FlashFileMode.Create))
        {
            for (int i = 0; i < 20; i++)
            {
                log.Write(FfsTestDevice.Pattern(300 + i, 200 + i));
                if (i % 5 == 4)
                {
                    log.Flush();
                }
            }

            log.Seek(chunk / 2, SeekOrigin.Begin);
            log.Write(FfsTestDevice.Pattern(chunk, 300));
            log.SetLength(chunk * 3);
        }

        // A transaction.
        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAllBytes("/etc/a.new", FfsTestDevice.Pattern(900, 400))
                .Rename("/etc/a.new", "/etc/a", replace: true)
                .Delete("/etc/cfg5")
                .CreateDirectory("/opt");
            txn.Commit();
        }

        // Churn: overwrites until GC and wear levelling have run, with checkpoints along the way.
        Churn(fs, chunk, 0, churn);
        fs.Maintain(new MaintenanceBudget(MaxPages: 64));
        var stats = fs.GetStatistics();
        Assert.True(stats.GcBlocksReclaimed > 0 && stats.WearLevelingMoves > 0 && stats.CheckpointsWritten > 2, $"{stats}");
        fs.Unmount();
        hashes.Add(Hash(dev));

        // Remount, more churn, and a power cut in the middle of a large write; recovery on the next mount.
        fs = FlashFileSystem.Mount(dev, options);
        Churn(fs, chunk, 1000, churn / 4);
        dev.CutPowerAfter(4);
        Assert.ThrowsAny<Exception>(() => fs.WriteAllBytes("/cut", FfsTestDevice.Pattern(chunk * 6, 500)));
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev, options);
        Assert.True(fs.Check().IsClean);
        Churn(fs, chunk, 2000, churn / 4);
        fs.Unmount();
        hashes.Add(Hash(dev));

        // A final remount, a repair check and a checkpointed unmount.
        fs = FlashFileSystem.Mount(dev, options);
        Assert.True(fs.Check(repair: true).IsClean);
        fs.WriteAllBytes("/last", FfsTestDevice.Pattern(chunk + 1, 600));
        fs.Unmount();
        hashes.Add(Hash(dev));
        return string.Join('/', hashes);
    }

    private static void Churn(FlashFileSystem fs, int chunk, int seed, int count)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            int file = random.Next(10);
            int length = random.Next(3) switch
            {
                0 => random.Next(10, 200),
                1 => chunk + random.Next(chunk),
                _ => (chunk * random.Next(2, 5)) + random.Next(chunk),
            };
            fs.WriteAllBytes($"/hot{file}", FfsTestDevice.Pattern(length, seed + i));
            if (i % 25 == 24)
            {
                fs.Sync();
            }
        }
    }

    private static string Hash(FlashSimulator dev)
    {
        using var image = new MemoryStream();
        dev.SaveImage(image);
        return $"{Convert.ToHexString(SHA256.HashData(image.ToArray()))}:{dev.MutationCount}";
    }
}

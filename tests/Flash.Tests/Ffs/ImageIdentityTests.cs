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
            "DBFAACEBC6D536FB4EDCD22D32A978081A3A83C86323EE85FA0413CEA497C808:1576/390FF1928FD143CEFC305CA2EAFAE946D2573005B2D4E37EA9474C6C792C8129:2283/A8FBB220DC0FB64F0CF33E3514288D217CF55BA7D7A2972A83E24F1EAB60FE1F:2289",
        ["nand-4k"] =
            "4AAF248A032DC4E6455FD10A2B067EFE741A620586DCB571CBDF3A399877D75C:1761/763BA6A9DC7B5F3DA1682E1A452A63C3292CAC9004311BB469F723D3DE5A9D99:2656/48A5DAB528141AE6D446C1126091AEB73C1E39F0136731A06CD446BBB9605FAF:2662",
        ["nor"] =
            "E8AF98713E0D13249B765A5701D43D9C8749BE67173727DC2538FC61B26CCD70:11036/D3C37FD6C3D66DDF753ADA0F6CE0CAA0EE23D18F2FFCAF03224FE33220F5E527:15816/BE022B3F99DD88A0C82794E95A0D48E9A9FD9F853990600D808690F34074FD5F:15824",
        ["small-page"] =
            "C17D942D2934025EF68A12D97D578F6ADEB6BCEC50C827210401C749651A352F:14276/73325FB3FADFDBA3B5107CE48649774CD98464461735E0AFD24193B73CDD872B:21253/A7048DA811395CE96D4F411627CB2AC2A5B5DBCFA597D799E2EC6D8355C57D60:21274",
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

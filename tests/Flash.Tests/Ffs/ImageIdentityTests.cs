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
    /// (behaviour changes, which the byte-identity rule of issue 18's refactors does not bind).
    /// </summary>
    private static readonly Dictionary<string, string> s_golden = new()
    {
        ["nand-2k"] =
            "74562904FE40549E646EDD14773EFD56816F2ED83F5C1C1A62F70DAC763A8B12:1588/971DE8EB5E7706C81DD57F379F35DCC01869CB3D69D9F7B4AF7E421D7D15F9EC:2295/32D25141E56B6F84B7ACE0D900876F0857754779A843FCFA00BA00E7C963EEC4:2301",
        ["nand-4k"] =
            "149D06655AE4C406B71703100AD0C7A49EFD598472DE7DB991DE81F95CF719A6:1774/29439A385BF7FF66F45B281D8A997A6D564DE085E9292359E83BA99275B04254:2662/DBBEF3C40CB2DCE40CD6C24139B01357903D93BCC79F2F400164B747897551DA:2668",
        ["nor"] =
            "E8D9C1D740A024F360F4E1C1E8743D5E3F1EB9EF0EB3B477CEFEA32AA99BF419:11039/664ECBB014397DB7BF0A4A3AD1ABC0866019B0584F4156EE478549017B4C6B8B:15819/5D0326596829FFB8A74AC9A238D80A48C9CDE590F1593D949175C8C2663A3DA2:15827",
        ["small-page"] =
            "C806179C0932A4D125B0F50D5973B530488D0902A9008A8C700C6A9F9E535AF6:14293/2E71EF1B94FC3C5C16F95E9862EDCC247703C6689016FD169863F409CA0FC068:21293/CFC4B00A00EBD1142D52AF816BCFDCBFA4EE7210D22FC7FDF7A9D0D0740E0C96:21314",
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

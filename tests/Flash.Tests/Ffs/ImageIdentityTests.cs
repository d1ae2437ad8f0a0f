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
    /// mutation count (programs and erases issued), recorded at main cd338d5.
    /// </summary>
    private static readonly Dictionary<string, string> s_golden = new()
    {
        ["nand-2k"] =
            "D8B4318B730B7AC2819AA96D0F851AF31E05EDA09887FC066927CCED8E483448:1616/D23C17D0789726B2AFABCD5D3F04AC724F74E18B69A937F4923C3A4C7599DE71:2332/FF3B801676940FF0608D9085AA20AD029BFC125F35F7E1618EB2C951971E176A:2351",
        ["nand-4k"] =
            "D24DE13ADCBAD079D343C342B31BCB755DD1669E6412E696E67FC19B260CF397:1802/A58CE84E79224ED2E6EDCA0A1A2F8C96E34287689147E20B1C3C0DA5F099D312:2650/3D8F620CA348D79408FD0A57049DD89CB56CE89EDD0E4F013238379EC5A81B85:2669",
        ["nor"] =
            "6F7BA591BD3989D4E4481CFBF03CAE116AF6601E8F5CB9FC4DFC1D1EDA912A22:11039/36AC735CFBCB5EE5A5C299B4A0FA4CBB5606936C06CDA4F583C57394EF95D4BA:15845/5134964A61E062B08719E843482A04AA79711E73A0022A8C5B4AB30B4F0118E7:15859",
        ["small-page"] =
            "B637CEC9F03F5149D09FCA5DEDD25170774ADDC0CD9085637E94C14C5A472A1D:14916/B737AAAED785451F7EA4DFD14E1338DAE2C0475D93B0C5C49882D8B50E18C550:21887/A776E16A68872213F70DA4C726401FDCBAA0761C04384D1640929D673595BA6E:21918",
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

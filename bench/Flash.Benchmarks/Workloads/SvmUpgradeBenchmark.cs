using System.Diagnostics;
using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// <c>svm-upgrade [--quick]</c>: the SVM performance target (issues 8 and 24). A full upgrade of a 32 MiB package (8
/// components of 4 MiB) into the alternate context of a redundant pair of 128 MiB NAND simulators, verification
/// included: the package in memory, and the copy to the secondary read back from the primary and checked against the
/// SGC digests (claim 36). Reports each device's simulated time against raw program time of the payload plus one raw
/// read of it (target: at most 1.15 × program + 1 × read on each device).
/// </summary>
internal static class SvmUpgradeBenchmark
{
    /// <summary>Runs the upgrade and prints the ratios.</summary>
    /// <param name="args">Options after <c>svm-upgrade</c>.</param>
    /// <returns>0 when both devices are within the target, 1 otherwise.</returns>
    public static int Run(string[] args)
    {
        bool quick = args.Contains("--quick");
        var geometry = quick ? new FlashGeometry(2048, 64, 64, 128) : FlashGeometry.Nand128MiB;
        long payload = quick ? 4L << 20 : 32L << 20;
        const int components = 8;

        using var d0 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 1 });
        using var d1 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 2 });
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var bus = new InProcessModuleBus();
        bus.Add(new SimulatedModule(new ModuleAddress("line-card", 1)));
        var options = new SvmOptions
        {
            Packages = new PackageVerificationOptions { TrustedKeys = [key.ExportSubjectPublicKeyInfo()] },
            FactoryDefaults = new Dictionary<string, ConfigurationFile>
            {
                [ConfigurationFile.NodeName] = new(ConfigurationFile.NodeName, 0, new Dictionary<string, string> { ["hostname"] = "node" }),
            },
        };

        using var svm = new SoftwareVersionManager(d0, d1, bus, options);
        svm.FormatAndInstall(Package(key, 1, components, 64 * 1024));
        svm.Initialize();
        var package = Package(key, 2, components, (int)(payload / components));

        Console.WriteLine($"svm-upgrade: full upgrade of a {payload >> 20} MiB package on two {geometry} simulators");
        var before0 = d0.Statistics.Capture();
        var before1 = d1.Statistics.Capture();
        var wall = Stopwatch.StartNew();
        svm.Upgrade(package, UpgradeMode.Full, ActivationMode.None);
        wall.Stop();

        var timing = d0.Statistics.Timing;
        long pages = payload / geometry.PageSize;
        double raw = (double)pages * timing.ProgramCost(geometry.PageSize);
        double rawRead = (double)pages * timing.ReadCost(geometry.PageSize);
        double target = (1.15 * raw) + rawRead;
        bool ok = true;
        foreach (var (name, counters) in new[] { ("nvs0", d0.Statistics.Capture() - before0), ("nvs1", d1.Statistics.Capture() - before1) })
        {
            double ratio = counters.SimulatedNanoseconds / raw;
            ok &= counters.SimulatedNanoseconds <= target;
            Console.WriteLine($"  {name}: {counters.SimulatedMilliseconds:F0} ms simulated vs {raw / 1e6:F0} ms raw program + {rawRead / 1e6:F0} ms raw read = {ratio:F3} x program, "
                + $"{counters.SimulatedNanoseconds / target:F3} of the target (1.15 x program + 1 x read); {counters.PagePrograms} programs, {counters.PageReads} reads, {counters.BlockErases} erases");
        }

        Console.WriteLine($"  wall clock {wall.ElapsedMilliseconds} ms");
        return ok ? 0 : 1;
    }

    private static byte[] Package(ECDsa key, int release, int components, int size)
    {
        var list = new List<PackageComponent>();
        var maps = new List<SgcMapping>();
        for (int i = 0; i < components; i++)
        {
            var data = new byte[size];
            new Random((release * 100) + i).NextBytes(data);
            list.Add(new PackageComponent($"c{i}.bin", new SoftwareVersion(1, (ushort)release, 0), data));
            maps.Add(new SgcMapping("line-card", SgcMapping.AnySlot, $"c{i}.bin"));
        }

        return SoftwarePackage.Build(new SoftwareVersion((ushort)release, 0, 0), list, maps, key);
    }
}

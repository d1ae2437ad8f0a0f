using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Network;
using Flash.Svm.Network.Components;
using Flash.Svm.Network.Tftp;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// <c>boot-storm [--quick]</c>: issue 20's target. 16 modules fetch a 32 MiB component set (8 × 4 MiB) by TFTP from
/// the SMP at once, on loopback. The primary device's simulated time for the storm must stay within 1.2 × the
/// simulated time of reading the set once (the shared read store reads each segment from flash once); reports loopback
/// throughput. <c>--quick</c>: 4 modules, 2 MiB, a 16 MiB device.
/// </summary>
internal static class BootStormBenchmark
{
    /// <summary>Runs the storm and prints the figures.</summary>
    /// <param name="args">Options after <c>boot-storm</c>.</param>
    /// <returns>0 when every module got verified components within the 1.2 × target, 1 otherwise.</returns>
    public static int Run(string[] args) => RunAsync(args).GetAwaiter().GetResult();

    private static async Task<int> RunAsync(string[] args)
    {
        bool quick = args.Contains("--quick");
        var geometry = quick ? new FlashGeometry(2048, 64, 64, 128) : FlashGeometry.Nand128MiB;
        int modules = quick ? 4 : 16;
        const int components = 8;
        int size = quick ? 256 * 1024 : 4 * 1024 * 1024;

        using var d0 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 1 });
        using var d1 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 2 });
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var svm = new SoftwareVersionManager(d0, d1, new InProcessModuleBus(), new SvmOptions
        {
            Packages = new PackageVerificationOptions { TrustedKeys = [key.ExportSubjectPublicKeyInfo()] },
            FactoryDefaults = new Dictionary<string, ConfigurationFile>
            {
                [ConfigurationFile.NodeName] = new(ConfigurationFile.NodeName, 0, new Dictionary<string, string> { ["hostname"] = "node" }),
            },
        });
        svm.FormatAndInstall(Package(key, components, size));
        var pair = new PairComponentStore(() => svm.Storage);
        var sgc = await pair.SgcAsync(CancellationToken.None);
        var primary = (FlashSimulator)svm.Primary.Device;

        // Baseline: the set read once from flash, in 64 KiB ranges.
        var before = primary.Statistics.Capture();
        var buffer = new byte[64 * 1024];
        foreach (var c in sgc.Components)
        {
            for (long at = 0; at < c.Size; at += buffer.Length)
            {
                await pair.ReadAsync(c, at, buffer, CancellationToken.None);
            }
        }

        double once = (primary.Statistics.Capture() - before).SimulatedNanoseconds;

        var slots = Enumerable.Range(1, modules).Select(i => new ModuleSlot(new ModuleAddress("line-card", i), IPAddress.Parse($"127.0.1.{i}"))).ToList();
        var shared = new SharedComponentStore(pair);
        await using var server = new TftpServer(shared, new TftpServerOptions { Endpoint = new IPEndPoint(IPAddress.Loopback, 0), Plan = new ModulePlan(slots) });
        server.Start();
        Console.WriteLine($"boot-storm: {modules} modules fetch {components} x {size >> 10} KiB = {(long)components * size >> 20} MiB each by TFTP (blksize 1468, windowsize 16) on loopback; {geometry}");
        before = primary.Statistics.Capture();
        var wall = Stopwatch.StartNew();
        var results = await Task.WhenAll(slots.Select(s => BootAsync(server.LocalEndPoint, s.Address, sgc)));
        wall.Stop();
        double storm = (primary.Statistics.Capture() - before).SimulatedNanoseconds;
        int good = results.Count(r => r);
        double ratio = storm / once;
        double mib = (double)modules * components * size / (1 << 20);
        var (innerReads, hits) = shared.Counters;
        Console.WriteLine($"  read once: {once / 1e6:F1} ms simulated; storm: {storm / 1e6:F1} ms simulated = {ratio:F3} x (target <= 1.2)");
        Console.WriteLine($"  {good}/{modules} modules verified every component; {innerReads} segment reads from flash, {hits} shared reads");
        Console.WriteLine($"  wall clock {wall.ElapsedMilliseconds} ms, loopback throughput {mib / wall.Elapsed.TotalSeconds:F1} MiB/s ({mib:F0} MiB served), {server.Statistics.Retransmissions} retransmissions");
        return good == modules && ratio <= 1.2 ? 0 : 1;
    }

    private static async Task<bool> BootAsync(IPEndPoint server, IPAddress self, SgcFile sgc)
    {
        foreach (var c in sgc.Components)
        {
            using var sink = new HashingSink();
            var r = await TftpClient.FetchAsync(server, c.Name, sink, new TftpClientOptions { LocalAddress = self, BlockSize = 1468, WindowSize = 16, Timeout = TimeSpan.FromSeconds(1) });
            if (!r.Ok || sink.Length != c.Size || !sink.Hash().AsSpan().SequenceEqual(c.Sha256))
            {
                Console.WriteLine($"  {self}: {c.Name} failed: {r.Message ?? "digest mismatch"}");
                return false;
            }
        }

        return true;
    }

    private static byte[] Package(ECDsa key, int components, int size)
    {
        var list = new List<PackageComponent>();
        var maps = new List<SgcMapping>();
        for (int i = 0; i < components; i++)
        {
            var data = new byte[size];
            new Random(2000 + i).NextBytes(data);
            list.Add(new PackageComponent($"c{i}.bin", new SoftwareVersion(1, 0, 0), data));
            maps.Add(new SgcMapping("line-card", SgcMapping.AnySlot, $"c{i}.bin"));
        }

        return SoftwarePackage.Build(new SoftwareVersion(1, 0, 0), list, maps, key);
    }

    /// <summary>A write-only stream that only hashes: a module checking its image without keeping 16 copies in RAM.</summary>
    private sealed class HashingSink : Stream
    {
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public byte[] Hash() => _sha.GetHashAndReset();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _sha.AppendData(buffer);
            _length += buffer.Length;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _sha.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

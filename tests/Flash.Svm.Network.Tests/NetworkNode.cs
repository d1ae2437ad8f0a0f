#pragma warning disable xUnit1051 // SVM calls are synchronous.
using System.Net;
using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Network.Components;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Tests;

/// <summary>A simulated SMP: two small flash devices with release 1 installed, and a component store over its pair.</summary>
internal sealed class NetworkNode : IDisposable
{
    public static readonly FlashGeometry Geometry = new(2048, 64, 16, 128);
    public static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly ModuleAddress Traffic1 = new("traffic", 1);
    public static readonly ModuleAddress Traffic2 = new("traffic", 2);
    public static readonly ModuleAddress Xc = new("xconnect", 5);

    /// <summary>More than 65,536 blocks of 8 bytes, to roll block numbers over.</summary>
    public const int BigSize = 8 * 70_000 + 3;
    private static readonly Lazy<byte[]> LazyR1 = new(() => Release(1));
    private static readonly Lazy<byte[]> LazyR2 = new(() => Release(2));

    public NetworkNode(IModuleBus? bus = null, Func<SvmOptions, SvmOptions>? tweak = null)
    {
        Dev0 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 1 });
        Dev1 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 2 });
        Source.Add("r2.pkg", R2);
        var options = new SvmOptions
        {
            Packages = new PackageVerificationOptions { TrustedKeys = [Key.ExportSubjectPublicKeyInfo()] },
            Sources = [Source],
            HealthTimeout = TimeSpan.FromMilliseconds(100),
        };
        Options = tweak is null ? options : tweak(options);
        Bus = bus ?? new InProcessModuleBus();
        Svm = new SoftwareVersionManager(Dev0, Dev1, Bus, Options);
        Svm.FormatAndInstall(R1, [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "smp" })]);
        Store = new PairComponentStore(() => _pair ?? Svm.Storage);
    }

    public static byte[] R1 => LazyR1.Value;

    public static byte[] R2 => LazyR2.Value;

    public FlashSimulator Dev0 { get; }

    public FlashSimulator Dev1 { get; }

    public IModuleBus Bus { get; }

    public MemorySoftwareSource Source { get; } = new();

    public SvmOptions Options { get; }

    public SoftwareVersionManager Svm { get; private set; }

    public PairComponentStore Store { get; }

    /// <summary>127.0.0.1 is traffic@1, 127.0.0.2 traffic@2, 127.0.0.5 xconnect@5 (all loopback).</summary>
    public static ModulePlan LoopbackPlan { get; } = new([
        new ModuleSlot(Traffic1, IPAddress.Parse("127.0.0.1")),
        new ModuleSlot(Traffic2, IPAddress.Parse("127.0.0.2")),
        new ModuleSlot(Xc, IPAddress.Parse("127.0.0.5")),
    ]);

    public static byte[] Content(string name, int release, int size)
    {
        var data = new byte[size];
        new Random(HashCode.Combine(name.Length, name[0], name[^1], release)).NextBytes(data);
        return data;
    }

    public static byte[] Release(int n)
    {
        var comps = new List<PackageComponent>
        {
            new("boot.bin", new SoftwareVersion(1, 1, 0), Content("boot.bin", 1, 20_000)),
            new("traffic-app.bin", new SoftwareVersion(1, (ushort)n, 0), Content("traffic-app.bin", n, 150_001)),
            new("traffic-fpga.bit", new SoftwareVersion(1, (ushort)n, 0), Content("traffic-fpga.bit", n, 40_960), ProgrammableDeviceKind.Fpga, "FPGA0"),
            new("xc-app.bin", new SoftwareVersion(1, 1, 0), Content("xc-app.bin", 1, 50_000)),
            new("empty.cfg", new SoftwareVersion(1, 0, 0), Array.Empty<byte>()),
            new("big.bin", new SoftwareVersion(1, 0, 0), Content("big.bin", 1, BigSize)),
        };
        var maps = new List<SgcMapping>
        {
            new("traffic", SgcMapping.AnySlot, "boot.bin"),
            new("xconnect", SgcMapping.AnySlot, "boot.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-app.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-fpga.bit"),
            new("traffic", 1, "empty.cfg"),
            new("traffic", 2, "big.bin"),
            new("xconnect", SgcMapping.AnySlot, "xc-app.bin"),
        };
        return SoftwarePackage.Build(new SoftwareVersion((ushort)n, 0, 0), comps, maps, Key);
    }

    /// <summary>Expected content of a component of release 1.</summary>
    public static byte[] Expected(string name) => name switch
    {
        "boot.bin" => Content("boot.bin", 1, 20_000),
        "traffic-app.bin" => Content("traffic-app.bin", 1, 150_001),
        "traffic-fpga.bit" => Content("traffic-fpga.bit", 1, 40_960),
        "xc-app.bin" => Content("xc-app.bin", 1, 50_000),
        "empty.cfg" => [],
        "big.bin" => Content("big.bin", 1, BigSize),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Program and erase counts of both devices: a read-only server must leave them unchanged.</summary>
    public (long, long) Mutations()
    {
        var a = Dev0.Statistics;
        var b = Dev1.Statistics;
        return (a.PagePrograms + b.PagePrograms, a.BlockErases + b.BlockErases);
    }

    private RedundantPair? _pair;

    /// <summary>
    /// Overwrites a file of the primary's current context behind SVM's back (CRC-valid, wrong content), then mounts the
    /// pair without SVM's init verification (which would repair it), so the servers meet the damage.
    /// </summary>
    public void TamperPrimary(string path, byte[] data)
    {
        var primary = Svm.Primary.Device;
        Svm.Dispose();
        var fs = FlashFileSystem.Mount(primary);
        try
        {
            fs.WriteAllBytes(ContextStore.ReadTable(fs).Current.Directory() + "/" + path, data);
        }
        finally
        {
            fs.Unmount();
        }

        _pair = RedundantPair.Mount(Dev0, Dev1);
    }

    public void Dispose()
    {
        _pair?.Dispose();
        Svm.Dispose();
        Dev0.Dispose();
        Dev1.Dispose();
    }
}

#pragma warning disable xUnit1051 // SVM calls are synchronous.
using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm.Configuration;
using Flash.Svm.Management.Upgrades;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Tests;

/// <summary>A simulated node for the management tests: two small flash devices, three modules, signed releases 1–3, the upgrade machine on NVS.</summary>
internal sealed class ManagedNode : IDisposable
{
    public static readonly FlashGeometry Geometry = new(2048, 64, 16, 128);
    public static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly ECDsa OtherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly ModuleAddress Traffic1 = new("traffic", 1);
    public static readonly ModuleAddress Traffic2 = new("traffic", 2);
    public static readonly ModuleAddress Xc = new("xconnect", 5);
    private static readonly Lazy<byte[]> LazyR1 = new(() => Release(1, Key));
    private static readonly Lazy<byte[]> LazyR2 = new(() => Release(2, Key));
    private static readonly Lazy<byte[]> LazyR3 = new(() => Release(3, Key));
    private static readonly Lazy<byte[]> LazyForeign = new(() => Release(3, OtherKey));

    public ManagedNode(IEnumerable<KeyValuePair<string, string>>? nodeSettings = null, ISoftwareSource? extraSource = null)
    {
        _extra = extraSource;
        Dev0 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 1 });
        Dev1 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 2 });
        Modules = [new SimulatedModule(Traffic1), new SimulatedModule(Traffic2), new SimulatedModule(Xc)];
        foreach (var m in Modules)
        {
            Bus.Add(m);
        }

        Source.Add("r1.pkg", LazyR1.Value);
        Source.Add("r2.pkg", LazyR2.Value);
        Source.Add("r3.pkg", LazyR3.Value);
        Source.Add("foreign.pkg", LazyForeign.Value);
        Svm = NewSvm();
        var settings = new Dictionary<string, string> { ["hostname"] = "node-a" };
        foreach (var (k, v) in nodeSettings ?? [])
        {
            settings[k] = v;
        }

        Svm.FormatAndInstall(LazyR1.Value, [new ConfigurationFile(ConfigurationFile.NodeName, 1, settings)]);
        Svm.Initialize();
        Machine = new UpgradeStateMachine(Svm, new NvsUpgradeStateStore(Svm));
        Machine.Recover();
    }

    private readonly ISoftwareSource? _extra;

    public FlashSimulator Dev0 { get; }
    public FlashSimulator Dev1 { get; }
    public InProcessModuleBus Bus { get; } = new();
    public SimulatedModule[] Modules { get; }
    public MemorySoftwareSource Source { get; } = new();
    public SoftwareVersionManager Svm { get; private set; }
    public UpgradeStateMachine Machine { get; private set; }

    /// <summary>A restart of the management processor: power back, a fresh SVM that initialises, a fresh machine that recovers.</summary>
    public UpgradeStatus Restart()
    {
        Machine.Dispose();
        Svm.Dispose();
        Dev0.CancelPowerCut();
        Dev1.CancelPowerCut();
        Dev0.PowerUp();
        Dev1.PowerUp();
        foreach (var m in Modules)
        {
            m.Reset();
        }

        Svm = NewSvm();
        Svm.Initialize();
        Machine = new UpgradeStateMachine(Svm, new NvsUpgradeStateStore(Svm));
        return Machine.Recover();
    }

    public UpgradeStatus DownloadAndWait(string path)
    {
        Machine.StartDownload(new TransferParameters("mem", path)).Wait(TimeSpan.FromSeconds(60));
        return Machine.Status;
    }

    public void Dispose()
    {
        Machine.Dispose();
        Svm.Dispose();
        Dev0.Dispose();
        Dev1.Dispose();
    }

    private SoftwareVersionManager NewSvm() => new(Dev0, Dev1, Bus, new SvmOptions
    {
        Packages = new PackageVerificationOptions { TrustedKeys = [Key.ExportSubjectPublicKeyInfo()] },
        Sources = _extra is null ? [Source] : [Source, _extra],
        HealthTimeout = TimeSpan.FromMilliseconds(100),
    });

    private static byte[] Content(string name, int release, int size)
    {
        var data = new byte[size];
        new Random(HashCode.Combine(name.Length, name[0], name[^1], release)).NextBytes(data);
        return data;
    }

    /// <summary>Release 2 changes the traffic FPGA image and app; release 3 changes everything. SmpNode's own releases use the default security counter (null: derived from the version).</summary>
    public static byte[] Release(int n, ECDsa key, ulong? securityCounter = 1)
    {
        int fpga = n >= 2 ? 2 : 1;
        int app = n >= 2 ? n : 1;
        int xc = n >= 3 ? 3 : 1;
        var comps = new List<PackageComponent>
        {
            new("boot.bin", new SoftwareVersion(1, 1, 0), Content("boot.bin", 1, 8_000)),
            new("traffic-app.bin", new SoftwareVersion(1, (ushort)app, 0), Content("traffic-app.bin", app, 30_000)),
            new("traffic-fpga.bit", new SoftwareVersion(1, (ushort)fpga, 0), Content("traffic-fpga.bit", fpga, 20_000), ProgrammableDeviceKind.Fpga, "FPGA0"),
            new("xc-app.bin", new SoftwareVersion(1, (ushort)xc, 0), Content("xc-app.bin", xc, 20_000)),
        };
        var maps = new List<SgcMapping>
        {
            new("traffic", SgcMapping.AnySlot, "boot.bin"),
            new("xconnect", SgcMapping.AnySlot, "boot.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-app.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-fpga.bit"),
            new("xconnect", SgcMapping.AnySlot, "xc-app.bin"),
        };
        // One security counter for every test release: none is a security fix, so APPLY revert may go back to the
        // previous release after a commit (the anti-rollback floor only refuses releases below the counter).
        return SoftwarePackage.Build(new SoftwareVersion((ushort)n, 0, 0), comps, maps, key, securityCounter);
    }
}

// Flash node demo: a SONET ring node's software management processor running SVM on two simulated flash devices.
// Formats them, installs release 1, boots the node, partially upgrades to release 2 (FPGA change -> autonomous
// message), trial-boots and commits it, then the whole node loses power (both devices and the running SVM) in the
// middle of an upgrade to release 3, finds its primary device corrupted at power-on, and comes back on the good
// software with both devices repaired.
// `--short` uses small components for CI; the default uses megabyte-sized components.
using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

bool quick = args.Contains("--short");
using var metrics = DemoMetrics.Start(args.Contains("--metrics")); // `--metrics`: export every Flash instrument to the console
int scale = quick ? 1 : 24; // component sizes: ~50-100 KB in short mode, ~1-2.4 MB otherwise
var geometry = quick ? new FlashGeometry(2048, 64, 16, 256) : new FlashGeometry(2048, 64, 64, 512);

Console.WriteLine($"Flash node demo{(quick ? " (short mode)" : "")}");

// ---------------------------------------------------------------- 0. the raw device and a power cut
Section("0. Raw flash: a power cut in the middle of a page program");
using (var raw = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 42 }))
{
    raw.Erase(1);
    raw.CutPowerAfter(1);
    try
    {
        raw.Program(raw.Geometry.FirstPageOf(1), new byte[raw.Geometry.PageSize], default);
    }
    catch (PowerLossException ex)
    {
        Console.WriteLine($"  PowerLossException: {ex.Message}");
    }

    raw.PowerUp();
    Console.WriteLine("  power restored; every layer above is built to survive exactly this.");
}

// ---------------------------------------------------------------- releases
var work = Directory.CreateTempSubdirectory("nodedemo-");
using var signingKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
for (int r = 1; r <= 3; r++)
{
    File.WriteAllBytes(Path.Combine(work.FullName, $"release-{r}.pkg"), BuildRelease(r, scale, signingKey));
}

var dev0 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 1, Name = "nvs0" });
var dev1 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = 2, Name = "nvs1" });
var modules = new[]
{
    new SimulatedModule(new ModuleAddress("traffic", 1)),
    new SimulatedModule(new ModuleAddress("traffic", 2)),
    new SimulatedModule(new ModuleAddress("xconnect", 7)),
    new SimulatedModule(new ModuleAddress("xconnect", 8)),
};
var bus = new InProcessModuleBus(modules);
var power = new NodePowerSupply(dev0, dev1);
var options = new SvmOptions
{
    Packages = new PackageVerificationOptions { TrustedKeys = [signingKey.ExportSubjectPublicKeyInfo()] },
    Sources = [new DirectorySoftwareSource(work.FullName)],
    FactoryDefaults = new Dictionary<string, ConfigurationFile>
    {
        [ConfigurationFile.NodeName] = new(ConfigurationFile.NodeName, 0, new Dictionary<string, string> { ["hostname"] = "node", ["ring"] = "east" }),
    },
    HealthTimeout = TimeSpan.FromMilliseconds(200),
};

int redesignations = 0;
SoftwareVersionManager NewSvm()
{
    var s = new SoftwareVersionManager(power.Feed(dev0), power.Feed(dev1), bus, options);
    s.Event += (_, e) => PrintEvent(e);
    s.Event += (_, e) => redesignations += e.Id == SvmEvents.Redesignated ? 1 : 0;
    return s;
}

var svm = NewSvm();

// ---------------------------------------------------------------- 1. install release 1
Section($"1. Format both devices ({geometry.TotalBytes >> 20} MiB each) and install release 1");
svm.FormatAndInstall(File.ReadAllBytes(Path.Combine(work.FullName, "release-1.pkg")),
    [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "ring-node-a", ["ring"] = "east" })]);

Section("2. Boot the node: verify storage, system-wide init command");
var report = svm.Initialize();
PrintReport(report);
PrintModules();

// ---------------------------------------------------------------- 2. partial upgrade to release 2
Section("3. Partial upgrade to release 2 (system command: dir:release-2.pkg)");
var result = svm.Upgrade(new UpgradeCommand(new TransferParameters("dir", "release-2.pkg")), new ConsoleProgress());
Console.WriteLine($"  mode            : {result.Mode}");
Console.WriteLine($"  downloaded      : {string.Join(", ", result.Downloaded)}");
Console.WriteLine($"  copied          : {string.Join(", ", result.Copied)}");
Console.WriteLine($"  affected modules: {string.Join(", ", result.AffectedModules)}");
Console.WriteLine($"  context table   : {svm.ReadTable()}");

Section("4. System-wide init: trial boot of release 2 (only affected modules re-initialised)");
report = svm.Initialize();
PrintReport(report);
PrintModules();

// ---------------------------------------------------------------- 3. power cut + corrupted primary
Section("5. Full upgrade to release 3 ... and the node loses power half way");
power.CutAfter(quick ? 150 : 4800);
try
{
    svm.Upgrade(new UpgradeCommand(new TransferParameters("dir", "release-3.pkg"), UpgradeMode.Full), new ConsoleProgress());
    Console.WriteLine("  (the upgrade completed before the cut)");
}
catch (IOException ex)
{
    // The whole node is down: both devices lost power at the same instant and the running SVM stops with them.
    Console.WriteLine($"  power failed at device operation {power.Mutations} of the upgrade (both devices, the management processor and every module): {(ex.InnerException ?? ex).GetType().Name}");
}

svm.Dispose();
foreach (var m in modules)
{
    m.Reset();
}

Console.WriteLine("  ... and at power-on the primary device comes back corrupted (its first blocks are erased).");
power.PowerUp();
for (int b = 0; b < 8; b++)
{
    dev0.Erase(b);
}

Section("6. Power on: SVM verifies, falls back, re-designates and repairs");
svm = NewSvm();
report = svm.Initialize();
PrintReport(report);
PrintModules();

// Init finds the designated primary (nvs0) bad and boots on nvs1, which becomes primary; nvs0 is repaired from it.
bool ok = report.Healthy && report.Release == new SoftwareVersion(2, 0, 0) && (report.Redesignated || redesignations > 0)
    && report.PrimaryDevice == "nvs1" && report.Repaired.Contains("nvs0");
foreach (var d in svm.Devices)
{
    var t = d.Table!;
    var v = svm.Verify(d, t.Current, checkConfiguration: true);
    Console.WriteLine($"  {svm.NameOf(d)}: {d.Role,-9} current {t.Current} {t.CurrentRelease()} verified={v.Ok}, alternate {t.Alternate} {t.AlternateState}, transaction {t.Sequence}");
    ok &= v.Ok && !d.IsFailed;
}

Console.WriteLine($"  configuration: {svm.ReadConfiguration(ConfigurationFile.NodeName)}");
work.Delete(recursive: true);
DemoMetrics.Stop(metrics); // the final export prints before the verdict, which stays the last line
Console.WriteLine();
Console.WriteLine(ok
    ? $"NodeDemo: OK - node running release {report.Release} on verified storage, primary {report.PrimaryDevice}, {string.Join(", ", report.Repaired)} repaired"
    : "NodeDemo: FAILED");
return ok ? 0 : 1;

static void Section(string title)
{
    Console.WriteLine();
    Console.WriteLine($"== {title} ==");
}

static void PrintEvent(SvmEventArgs e)
{
    if (e.Id == SvmEvents.ModuleInitialised || e.Id == SvmEvents.StorageVerified)
    {
        return;
    }

    string mark = e.Id == SvmEvents.ProgrammableDeviceChange ? "!!" : "  ";
    Console.WriteLine($"  {mark} [{e.Id.Name}] {e.Message}");
}

void PrintReport(BootReport r)
{
    Console.WriteLine($"  => release {r.Release} from primary {r.PrimaryDevice}; trial {r.Trial}; configuration {r.Configuration}; " +
        $"initialised {(r.InitialisedModules.Count == 0 ? "none" : string.Join(", ", r.InitialisedModules))}; healthy {r.Healthy}");
}

void PrintModules()
{
    foreach (var m in modules)
    {
        var fpga = m.ProgrammableDevices().Select(d => $"{d.Kind} {d.Name}={d.Image} v{d.ImageVersion}");
        Console.WriteLine($"     {m.Address,-11} {m.ReportHealth(),-8} release {m.Release}  inits {m.InitCount}  {string.Join(" ", fpga)}");
    }
}

static byte[] BuildRelease(int n, int scale, ECDsa key)
{
    int fpga = n >= 2 ? 2 : 1;
    int app = n;
    int xc = n >= 3 ? 3 : 1;
    int boot = n >= 3 ? 3 : 1;
    var comps = new List<PackageComponent>
    {
        new("boot.bin", new SoftwareVersion(1, (ushort)boot, 0), Content(1, boot, 40_000 * scale)),
        new("traffic-app.bin", new SoftwareVersion(2, (ushort)app, 0), Content(2, app, 100_000 * scale)),
        new("traffic-fpga.bit", new SoftwareVersion(1, (ushort)fpga, 0), Content(3, fpga, 60_000 * scale), ProgrammableDeviceKind.Fpga, "FPGA0"),
        new("xc-app.bin", new SoftwareVersion(3, (ushort)xc, 0), Content(4, xc, 80_000 * scale)),
        new("xc-cpld.jed", new SoftwareVersion(1, 0, 0), Content(5, 1, 8_000 * scale), ProgrammableDeviceKind.Cpld, "CPLD0"),
    };
    var maps = new List<SgcMapping>
    {
        new("traffic", SgcMapping.AnySlot, "boot.bin"),
        new("xconnect", SgcMapping.AnySlot, "boot.bin"),
        new("traffic", SgcMapping.AnySlot, "traffic-app.bin"),
        new("traffic", SgcMapping.AnySlot, "traffic-fpga.bit"),
        new("xconnect", SgcMapping.AnySlot, "xc-app.bin"),
        new("xconnect", SgcMapping.AnySlot, "xc-cpld.jed"),
    };
    return SoftwarePackage.Build(new SoftwareVersion((ushort)n, 0, 0), comps, maps, key);
}

static byte[] Content(int component, int version, int size)
{
    var data = new byte[size];
    new Random(component * 1000 + version).NextBytes(data);
    return data;
}

/// <summary>Prints progress lines at every quarter of a phase.</summary>
sealed class ConsoleProgress : IProgress<UpgradeProgress>
{
    private string _phase = "";
    private int _quarter = -1;

    public void Report(UpgradeProgress value)
    {
        if (value.Phase != _phase)
        {
            _phase = value.Phase;
            _quarter = -1;
        }

        int q = value.TotalBytes == 0 ? 4 : (int)(value.Bytes * 4 / value.TotalBytes);
        if (q > _quarter)
        {
            _quarter = q;
            int bar = q * 5;
            Console.WriteLine($"     {value.Phase,-15} [{new string('#', bar)}{new string('.', 20 - bar)}] {value.Bytes / 1024,7:N0} / {value.TotalBytes / 1024:N0} KiB, component {value.Components}/{value.TotalComponents}");
        }
    }
}

/// <summary>
/// The node's power supply for both storage devices: a cut interrupts the k-th program or erase counted over both devices
/// and takes the other device down at the same instant, as a real node losing power does.
/// </summary>
sealed class NodePowerSupply(FlashSimulator dev0, FlashSimulator dev1)
{
    private long _cutAt = -1;

    /// <summary>Programs and erases of both devices since the cut was armed.</summary>
    public long Mutations { get; private set; }

    public void CutAfter(long mutations)
    {
        Mutations = 0;
        _cutAt = mutations;
    }

    public void PowerUp()
    {
        _cutAt = -1;
        dev0.PowerUp();
        dev1.PowerUp();
    }

    /// <summary>The device as the management processor sees it: behind this supply.</summary>
    public IFlashDevice Feed(FlashSimulator device) => new Fed(this, device);

    private void BeforeMutation(FlashSimulator device)
    {
        if (_cutAt < 0 || !device.IsPowered)
        {
            return;
        }

        if (++Mutations == _cutAt)
        {
            _cutAt = -1;
            device.CutPowerAfter(1);
            (ReferenceEquals(device, dev0) ? dev1 : dev0).CutPower();
        }
    }

    private sealed class Fed(NodePowerSupply power, FlashSimulator inner) : IFlashDevice
    {
        public FlashGeometry Geometry => inner.Geometry;

        public FlashStatistics Statistics => inner.Statistics;

        public ReadResult Read(int page, Span<byte> data, Span<byte> spare) => inner.Read(page, data, spare);

        public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
        {
            power.BeforeMutation(inner);
            inner.Program(page, data, spare);
        }

        public void Erase(int block)
        {
            power.BeforeMutation(inner);
            inner.Erase(block);
        }

        public bool IsBad(int block) => inner.IsBad(block);

        public void MarkBad(int block) => inner.MarkBad(block);

        public void Dispose()
        {
        }
    }
}

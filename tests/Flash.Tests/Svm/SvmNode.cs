#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using System.Security.Cryptography;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Flash.Ffs;
using Flash.Ffs.Contexts;

namespace Flash.Tests.Svm;

/// <summary>A simulated node: two small flash devices, three modules, signed releases 1–3.</summary>
internal sealed class SvmNode : IDisposable
{
    public static readonly FlashGeometry Geometry = new(2048, 64, 16, 128);
    public static readonly ECDsa Key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly ECDsa OtherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public static readonly ModuleAddress Traffic1 = new("traffic", 1);
    public static readonly ModuleAddress Traffic2 = new("traffic", 2);
    public static readonly ModuleAddress Xc = new("xconnect", 5);
    public static readonly ConfigurationFile FactoryNode = new(ConfigurationFile.NodeName, 0, new Dictionary<string, string> { ["hostname"] = "factory" });

    private static readonly Lazy<byte[]> LazyR1 = new(() => Release(1));
    private static readonly Lazy<byte[]> LazyR2 = new(() => Release(2));
    private static readonly Lazy<byte[]> LazyR3 = new(() => Release(3));

    public static byte[] R1 => LazyR1.Value;
    public static byte[] R2 => LazyR2.Value;
    public static byte[] R3 => LazyR3.Value;

    public FlashSimulator Dev0 { get; private set; }
    public FlashSimulator Dev1 { get; private set; }
    public InProcessModuleBus Bus { get; } = new();
    public SimulatedModule[] Modules { get; }
    public MemorySoftwareSource Source { get; } = new();
    public SoftwareVersionManager Svm { get; private set; }
    public List<SvmEventArgs> Events { get; } = [];
    public SvmOptions Options { get; private set; }

    private readonly bool _ownsDevices;

    public SvmNode(Func<SvmOptions, SvmOptions>? tweak = null, FlashSimulator? dev0 = null, FlashSimulator? dev1 = null)
    {
        _ownsDevices = dev0 is null;
        Dev0 = dev0 ?? FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 1 });
        Dev1 = dev1 ?? FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Geometry, Seed = 2 });
        Modules = [new SimulatedModule(Traffic1), new SimulatedModule(Traffic2), new SimulatedModule(Xc)];
        foreach (var m in Modules)
        {
            Bus.Add(m);
        }

        Source.Add("r1.pkg", R1);
        Source.Add("r2.pkg", R2);
        Source.Add("r3.pkg", R3);
        var options = new SvmOptions
        {
            Packages = new PackageVerificationOptions { TrustedKeys = [Key.ExportSubjectPublicKeyInfo()] },
            Sources = [Source],
            FactoryDefaults = new Dictionary<string, ConfigurationFile> { [ConfigurationFile.NodeName] = FactoryNode },
            HealthTimeout = TimeSpan.FromSeconds(1),
        };
        Options = tweak is null ? options : tweak(options);
        Svm = NewSvm();
    }

    /// <summary>When set, SVM sees both devices behind this supply (node-wide power cuts).</summary>
    public NodePower? Power { get; set; }

    public SoftwareVersionManager NewSvm()
    {
        var svm = Power is { } p ? new SoftwareVersionManager(p.Wrap(Dev0), p.Wrap(Dev1), Bus, Options) : new SoftwareVersionManager(Dev0, Dev1, Bus, Options);
        svm.Event += (_, e) => Events.Add(e);
        return svm;
    }

    /// <summary>Simulates a reboot of the management processor: power restored, a fresh SVM instance, modules reset.</summary>
    public SoftwareVersionManager Reboot(bool resetModules = true)
    {
        Power?.Disarm();
        Dev0.CancelPowerCut();
        Dev1.CancelPowerCut();
        Dev0.PowerUp();
        Dev1.PowerUp();
        Svm = NewSvm();
        if (resetModules)
        {
            foreach (var m in Modules)
            {
                m.Reset();
            }
        }

        return Svm;
    }

    /// <summary>Installs release 1 with a node configuration and boots.</summary>
    public BootReport InstallAndBoot()
    {
        Svm.FormatAndInstall(R1, [new ConfigurationFile(ConfigurationFile.NodeName, 1, new Dictionary<string, string> { ["hostname"] = "node-a" })]);
        return Svm.Initialize();
    }

    public static byte[] Content(string name, int release, int size)
    {
        var data = new byte[size];
        new Random(HashCode.Combine(name.Length, name[0], name[^1], release)).NextBytes(data);
        return data;
    }

    /// <summary>Release 1: boot, traffic app, FPGA image, xconnect app. Release 2 changes the traffic FPGA image and app. Release 3 changes everything.</summary>
    public static byte[] Release(int n, ECDsa? key = null)
    {
        int fpga = n >= 2 ? 2 : 1;
        int app = n >= 2 ? n : 1;
        int xc = n >= 3 ? 3 : 1;
        int boot = n >= 3 ? 3 : 1;
        var comps = new List<PackageComponent>
        {
            new("boot.bin", new SoftwareVersion(1, (ushort)boot, 0), Content("boot.bin", boot, 20_000)),
            new("traffic-app.bin", new SoftwareVersion(1, (ushort)app, 0), Content("traffic-app.bin", app, 60_000)),
            new("traffic-fpga.bit", new SoftwareVersion(1, (ushort)fpga, 0), Content("traffic-fpga.bit", fpga, 40_000), ProgrammableDeviceKind.Fpga, "FPGA0"),
            new("xc-app.bin", new SoftwareVersion(1, (ushort)xc, 0), Content("xc-app.bin", xc, 50_000)),
        };
        var maps = new List<SgcMapping>
        {
            new("traffic", SgcMapping.AnySlot, "boot.bin"),
            new("xconnect", SgcMapping.AnySlot, "boot.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-app.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-fpga.bit"),
            new("xconnect", SgcMapping.AnySlot, "xc-app.bin"),
        };
        return SoftwarePackage.Build(new SoftwareVersion((ushort)n, 0, 0), comps, maps, key ?? Key);
    }

    /// <summary>Checks the invariant after a crash and re-init: current valid with a valid config; alternate complete-and-verified or not usable; both devices at the same table.</summary>
    public static void AssertStorageSane(SoftwareVersionManager svm)
    {
        Assert.False(svm.Storage.IsDegraded, "the pair is still degraded after init");
        foreach (var dev in new[] { svm.Primary, svm.Secondary })
        {
            var t = dev.Table;
            Assert.True(t is not null, $"{svm.NameOf(dev)}: no context table");
            Assert.Equal(svm.Storage.Table with { Generation = 0 }, t! with { Generation = 0 });
            Assert.Equal(ContextState.Valid, t!.CurrentState);
            var v = svm.Verify(dev, t.Current, checkConfiguration: true);
            Assert.True(v.Ok, $"{svm.NameOf(dev)} current: {v.SoftwareError} {v.ConfigurationError}");
            Assert.Equal(t.CurrentRelease(), v.Sgc!.Release);
            if (t.AlternateState == ContextState.Valid)
            {
                var a = svm.Verify(dev, t.Alternate, checkConfiguration: false);
                Assert.True(a.SoftwareOk, $"{svm.NameOf(dev)} alternate marked complete: {a.SoftwareError}");
                Assert.Equal(t.AlternateRelease(), a.Sgc!.Release);
            }
            else
            {
                Assert.NotEqual(ContextState.Writing, t.AlternateState);
                Assert.False(t.AlternateBoot);
            }
        }
    }

    /// <summary>
    /// Changes a device behind SVM's back (a fault the mirror cannot know about): the SVM is shut down, the device's file
    /// system mounted directly and <paramref name="change"/> applied to its current context directory (<c>/ctx0</c> or
    /// <c>/ctx1</c>). Call <see cref="Reboot"/> afterwards.
    /// </summary>
    public void Tamper(FlashSimulator device, Action<FlashFileSystem, string> change)
    {
        Svm.Dispose();
        var fs = FlashFileSystem.Mount(device);
        try
        {
            change(fs, ContextStore.ReadTable(fs).Current.Directory());
        }
        finally
        {
            fs.Unmount();
        }
    }

    /// <summary>Writes a file (path relative to the area) into the current context of a device behind SVM's back.</summary>
    public void TamperWrite(FlashSimulator device, string path, byte[] data) => Tamper(device, (fs, dir) => fs.WriteAllBytes(dir + "/" + path, data));

    /// <summary>Deletes a file (path relative to the area) of the current context of a device behind SVM's back.</summary>
    public void TamperDelete(FlashSimulator device, string path) => Tamper(device, (fs, dir) =>
    {
        if (fs.Exists(dir + "/" + path))
        {
            fs.Delete(dir + "/" + path);
        }
    });

    public void Dispose()
    {
        if (_ownsDevices)
        {
            Dev0.Dispose();
            Dev1.Dispose();
        }
    }
}

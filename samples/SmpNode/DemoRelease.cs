using System.Security.Cryptography;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

/// <summary>The releases SmpNode installs when it starts on empty state: a boot loader, applications and an FPGA image.</summary>
internal static class DemoRelease
{
    public static byte[] Build(int n, ECDsa key)
    {
        var comps = new List<PackageComponent>
        {
            new("boot.bin", new SoftwareVersion(1, 1, 0), Content(1, 1, 64 * 1024)),
            new("traffic-app.bin", new SoftwareVersion(2, (ushort)n, 0), Content(2, n, 384 * 1024)),
            new("traffic-fpga.bit", new SoftwareVersion(1, (ushort)n, 0), Content(3, n, 256 * 1024), ProgrammableDeviceKind.Fpga, "FPGA0"),
            new("xc-app.bin", new SoftwareVersion(3, 1, 0), Content(4, 1, 320 * 1024)),
        };
        var maps = new List<SgcMapping>
        {
            new("traffic", SgcMapping.AnySlot, "boot.bin"),
            new("xconnect", SgcMapping.AnySlot, "boot.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-app.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-fpga.bit"),
            new("xconnect", SgcMapping.AnySlot, "xc-app.bin"),
        };
        return SoftwarePackage.Build(new SoftwareVersion((ushort)n, 0, 0), comps, maps, key);
    }

    /// <summary>The node's signing key, created on first start and kept in the state directory.</summary>
    public static ECDsa Key(string state)
    {
        var path = Path.Combine(state, "signing-key.pem");
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        else
        {
            File.WriteAllText(path, key.ExportPkcs8PrivateKeyPem());
        }

        return key;
    }

    private static byte[] Content(int component, int version, int size)
    {
        var data = new byte[size];
        new Random(component * 1000 + version).NextBytes(data);
        return data;
    }
}

#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using System.Security.Cryptography;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Packages;

/// <summary>Delta packages: only the changed components travel; the rest is copied from the current context.</summary>
public sealed class DeltaPackageTests
{
    private static readonly ECDsa Signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static TrustedSigningKey Trusted()
    {
        var spki = Signer.ExportSubjectPublicKeyInfo();
        return new TrustedSigningKey(TrustedSigningKey.DefaultKeyId(spki), spki);
    }

    /// <summary>The components of <see cref="SvmNode.Release"/> n, as a delta leaving out <paramref name="omit"/>.</summary>
    private static byte[] Delta(int n, params string[] omit)
    {
        int fpga = n >= 2 ? 2 : 1, app = n >= 2 ? n : 1, xc = n >= 3 ? 3 : 1, boot = n >= 3 ? 3 : 1;
        var comps = new List<PackageComponent>
        {
            new("boot.bin", new SoftwareVersion(1, (ushort)boot, 0), SvmNode.Content("boot.bin", boot, 20_000)),
            new("traffic-app.bin", new SoftwareVersion(1, (ushort)app, 0), SvmNode.Content("traffic-app.bin", app, 60_000)),
            new("traffic-fpga.bit", new SoftwareVersion(1, (ushort)fpga, 0), SvmNode.Content("traffic-fpga.bit", fpga, 40_000), ProgrammableDeviceKind.Fpga, "FPGA0"),
            new("xc-app.bin", new SoftwareVersion(1, (ushort)xc, 0), SvmNode.Content("xc-app.bin", xc, 50_000)),
        };
        var maps = new List<SgcMapping>
        {
            new("traffic", SgcMapping.AnySlot, "boot.bin"), new("xconnect", SgcMapping.AnySlot, "boot.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-app.bin"), new("traffic", SgcMapping.AnySlot, "traffic-fpga.bit"),
            new("xconnect", SgcMapping.AnySlot, "xc-app.bin"),
        };
        return SoftwarePackage.BuildEnveloped(new SoftwareVersion((ushort)n, 0, 0), comps, maps, Signer, Trusted().KeyId, omit: omit.ToHashSet());
    }

    private static SvmNode Node() => new(o => new SvmOptions
    {
        Packages = new PackageVerificationOptions { TrustedKeys = o.Packages.TrustedKeys, Trust = new PackageTrust { Keys = [Trusted()] } },
        Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
    });

    private static long Programs(SvmNode node) => node.Dev0.Statistics.PagePrograms + node.Dev1.Statistics.PagePrograms;

    [Fact]
    public void DeltaPackage_CarriesOnlyTheChangedComponents_AndTheRestIsCopied()
    {
        using var node = Node();
        node.InstallAndBoot();
        var delta = Delta(2, "boot.bin", "xc-app.bin");
        Assert.True(SoftwarePackage.Open(delta, node.Options.Packages).IsDelta);
        Assert.True(delta.Length < SvmNode.R2.Length - 60_000);

        var result = node.Svm.Upgrade(delta, UpgradeMode.Auto, ActivationMode.None);

        Assert.Equal(["traffic-app.bin", "traffic-fpga.bit"], result.Downloaded.Order());
        Assert.Equal(["boot.bin", "xc-app.bin"], result.Copied.Order());
        Assert.Equal(new SoftwareVersion(2, 0, 0), node.Svm.ReadTable().AlternateRelease());
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void DeltaLackingAChangedComponent_OrForcedFull_IsRefusedBeforeAnyWrite()
    {
        using var node = Node();
        node.InstallAndBoot();
        var programs = Programs(node);

        // Release 3 changes boot.bin, which this delta leaves out.
        var e = Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(Delta(3, "boot.bin"), UpgradeMode.Auto, ActivationMode.None));
        Assert.Equal(PackageRejectReason.Inconsistent, e.Reason);
        var full = Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(Delta(2, "boot.bin"), UpgradeMode.Full, ActivationMode.None));
        Assert.Equal(PackageRejectReason.Inconsistent, full.Reason);

        Assert.Equal(programs, Programs(node));
        Assert.Equal(new SoftwareVersion(1, 0, 0), node.Svm.ReadTable().CurrentRelease());
    }
}

using System.Security.Cryptography;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Streaming;

/// <summary>Format-2 (enveloped) releases for the streaming tests, and nodes that trust their key and stream from a <see cref="StreamingTestSource"/>.</summary>
internal static class StreamingReleases
{
    public static readonly ECDsa Revoked = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static readonly Lazy<byte[]> LazyR2 = new(() => Release(2));
    private static readonly Lazy<byte[]> LazyR3 = new(() => Release(3));

    public static byte[] R2 => LazyR2.Value;

    public static byte[] R3 => LazyR3.Value;

    public static byte[] KeyId(ECDsa key) => TrustedSigningKey.DefaultKeyId(key.ExportSubjectPublicKeyInfo());

    public static PackageTrust Trust => new()
    {
        Keys = [new(KeyId(SvmNode.Key), SvmNode.Key.ExportSubjectPublicKeyInfo()), new(KeyId(Revoked), Revoked.ExportSubjectPublicKeyInfo())],
        RevokedKeyIds = [KeyId(Revoked)],
    };

    /// <summary>Release <paramref name="n"/> with the components of <see cref="SvmNode.Release"/>, in the enveloped format.</summary>
    public static byte[] Release(int n, ECDsa? key = null, IReadOnlySet<string>? omit = null, int scale = 1, ulong? securityCounter = null)
    {
        int fpga = n >= 2 ? 2 : 1;
        int app = n >= 2 ? n : 1;
        int xc = n >= 3 ? 3 : 1;
        int boot = n >= 3 ? 3 : 1;
        var comps = new List<PackageComponent>
        {
            new("boot.bin", new SoftwareVersion(1, (ushort)boot, 0), SvmNode.Content("boot.bin", boot, 20_000 * scale)),
            new("traffic-app.bin", new SoftwareVersion(1, (ushort)app, 0), SvmNode.Content("traffic-app.bin", app, 60_000 * scale)),
            new("traffic-fpga.bit", new SoftwareVersion(1, (ushort)fpga, 0), SvmNode.Content("traffic-fpga.bit", fpga, 40_000 * scale), ProgrammableDeviceKind.Fpga, "FPGA0"),
            new("xc-app.bin", new SoftwareVersion(1, (ushort)xc, 0), SvmNode.Content("xc-app.bin", xc, 50_000 * scale)),
        };
        var maps = new List<SgcMapping>
        {
            new("traffic", SgcMapping.AnySlot, "boot.bin"),
            new("xconnect", SgcMapping.AnySlot, "boot.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-app.bin"),
            new("traffic", SgcMapping.AnySlot, "traffic-fpga.bit"),
            new("xconnect", SgcMapping.AnySlot, "xc-app.bin"),
        };
        var signer = key ?? SvmNode.Key;
        return SoftwarePackage.BuildEnveloped(new SoftwareVersion((ushort)n, 0, 0), comps, maps, signer, KeyId(signer), securityCounter, omit);
    }

    /// <summary>Options of a node that also streams from <paramref name="source"/> and trusts the enveloped releases.</summary>
    public static SvmOptions With(SvmOptions o, ISoftwareSource source, long? maxPackageSize = null, PackageTrust? trust = null) => new()
    {
        Packages = new PackageVerificationOptions
        {
            TrustedKeys = o.Packages.TrustedKeys,
            Trust = trust ?? Trust,
            MaxPackageSize = maxPackageSize ?? o.Packages.MaxPackageSize,
        },
        Sources = [.. o.Sources, source],
        FactoryDefaults = o.FactoryDefaults,
        HealthTimeout = o.HealthTimeout,
    };

    public static UpgradeCommand Command(string path, UpgradeMode mode = UpgradeMode.Full, ActivationMode activation = ActivationMode.None)
        => new(new TransferParameters("stream", path), mode, activation);
}

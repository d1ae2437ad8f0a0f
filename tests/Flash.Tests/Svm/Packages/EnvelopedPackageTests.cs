#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using System.Security.Cryptography;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Packages;

/// <summary>Format-2 packages (COSE_Sign1 manifest envelope) opened directly and upgraded into a simulated node.</summary>
public sealed class EnvelopedPackageTests
{
    private static readonly ECDsa Signer = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly ECDsa Retired = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly SoftwareVersion V4 = new(4, 0, 0);

    private static TrustedSigningKey Trusted(ECDsa key)
    {
        var spki = key.ExportSubjectPublicKeyInfo();
        return new TrustedSigningKey(TrustedSigningKey.DefaultKeyId(spki), spki);
    }

    private static PackageTrust Trust => new() { Keys = [Trusted(Signer), Trusted(Retired)], RevokedKeyIds = [Trusted(Retired).KeyId] };

    private static byte[] Build(ECDsa key, SoftwareVersion? release = null)
    {
        var r = release ?? V4;
        return SoftwarePackage.BuildEnveloped(r, [new PackageComponent("boot.bin", r, SvmNode.Content("boot.bin", 40, 3_000))],
            [new SgcMapping("traffic", SgcMapping.AnySlot, "boot.bin"), new SgcMapping("xconnect", SgcMapping.AnySlot, "boot.bin")], key, Trusted(key).KeyId);
    }

    private static PackageRejectReason Reject(byte[] package, PackageTrust? trust = null) =>
        Assert.Throws<PackageRejectedException>(() => SoftwarePackage.Open(package, new PackageVerificationOptions { Trust = trust ?? Trust })).Reason;

    [Fact]
    public void EnvelopedPackage_OpensWithATrustedKeyId()
    {
        var package = SoftwarePackage.Open(Build(Signer), new PackageVerificationOptions { Trust = Trust });

        Assert.Equal(V4, package.Release);
        Assert.Equal(SvmNode.Content("boot.bin", 40, 3_000), package.Component("boot.bin").ToArray());
    }

    [Fact]
    public void BadEnvelopedPackages_AreSpecificRejections()
    {
        var good = Build(Signer);
        var component = (byte[])good.Clone();
        component[good.AsSpan().IndexOf(SvmNode.Content("boot.bin", 40, 3_000).AsSpan(0, 32)) + 5] ^= 1;

        Assert.Equal(PackageRejectReason.KeyRevoked, Reject(Build(Retired)));
        Assert.Equal(PackageRejectReason.BadSignature, Reject(good, new PackageTrust { Keys = [Trusted(Retired)] }));
        Assert.Equal(PackageRejectReason.ChecksumMismatch, Reject(component));
        Assert.Equal(PackageRejectReason.Truncated, Reject(good[..^3]));
        Assert.Equal(PackageRejectReason.Truncated, Reject(good[..(good.Length / 2)]));
        Assert.Equal(PackageRejectReason.BadSignature, Reject(good, new PackageTrust()));
    }

    [Fact]
    public void Format1Packages_OpenOnlyWithATrustedLegacyKey()
    {
        Assert.Equal(PackageRejectReason.BadSignature, Reject(SvmNode.R1, Trust));
        var legacy = new PackageVerificationOptions { TrustedKeys = [SvmNode.Key.ExportSubjectPublicKeyInfo()], Trust = Trust };
        Assert.Equal(new SoftwareVersion(1, 0, 0), SoftwarePackage.Open(SvmNode.R1, legacy).Release);
    }

    [Fact]
    public void Node_UpgradesFromAnEnvelopedPackage_AndARevokedOneLeavesStorageUntouched()
    {
        using var node = new SvmNode(o => new SvmOptions
        {
            Packages = new PackageVerificationOptions { TrustedKeys = o.Packages.TrustedKeys, Trust = Trust },
            Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
        });
        node.InstallAndBoot();
        var programs = node.Dev0.Statistics.PagePrograms + node.Dev1.Statistics.PagePrograms;

        Assert.Equal(PackageRejectReason.KeyRevoked, Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(Build(Retired))).Reason);
        Assert.Equal(programs, node.Dev0.Statistics.PagePrograms + node.Dev1.Statistics.PagePrograms);

        var result = node.Svm.Upgrade(Build(Signer), UpgradeMode.Full, ActivationMode.None);
        Assert.Equal(V4, result.Release);
        Assert.Equal(V4, node.Svm.ReadTable().AlternateRelease());
        SvmNode.AssertStorageSane(node.Svm);
    }
}

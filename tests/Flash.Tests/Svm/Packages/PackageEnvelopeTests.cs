using System.Security.Cryptography;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm.Packages;

/// <summary>The COSE_Sign1 release envelope: key ids, several trusted keys, rotation, revocation, bad input.</summary>
public sealed class PackageEnvelopeTests
{
    private static readonly ECDsa KeyA = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private static readonly ECDsa KeyB = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static TrustedSigningKey Trusted(ECDsa key)
    {
        var spki = key.ExportSubjectPublicKeyInfo();
        return new TrustedSigningKey(TrustedSigningKey.DefaultKeyId(spki), spki);
    }

    private static byte[] Sgc(ushort major = 2, ulong counter = 42)
    {
        var app = new byte[] { 1, 2, 3, 4, 5 };
        var component = SgcComponent.Describe("app.bin", new SoftwareVersion(major, 0, 0), app, ProgrammableDeviceKind.None, "");
        return new SgcFile(new SoftwareVersion(major, 0, 0), [component], [], counter).ToBytes();
    }

    private static byte[] Signed(ECDsa key, byte[]? sgc = null) => PackageEnvelope.Sign(sgc ?? Sgc(), key, Trusted(key).KeyId);

    [Fact]
    public void SignedManifest_VerifiesAndCarriesReleaseCounterDigestsAndKeyId()
    {
        var trust = new PackageTrust { Keys = [Trusted(KeyA)] };

        var manifest = PackageEnvelope.Verify(Signed(KeyA), trust);

        Assert.Equal(new SoftwareVersion(2, 0, 0), manifest.Sgc.Release);
        Assert.Equal(42UL, manifest.Sgc.SecurityCounter);
        Assert.Equal(SHA256.HashData(new byte[] { 1, 2, 3, 4, 5 }), manifest.Sgc.Components.Single().Sha256);
        Assert.Equal(Trusted(KeyA).KeyId, manifest.KeyId);
    }

    [Fact]
    public void Rotation_BothKeysAcceptedThenTheOldOneRevoked()
    {
        var during = new PackageTrust { Keys = [Trusted(KeyA), Trusted(KeyB)] };
        PackageEnvelope.Verify(Signed(KeyA), during);
        PackageEnvelope.Verify(Signed(KeyB), during);

        // The old key stays listed by mistake: the revocation list still wins.
        var after = new PackageTrust { Keys = [Trusted(KeyA), Trusted(KeyB)], RevokedKeyIds = [Trusted(KeyA).KeyId] };
        var e = Assert.Throws<PackageRejectedException>(() => PackageEnvelope.Verify(Signed(KeyA), after));
        Assert.Equal(PackageRejectReason.KeyRevoked, e.Reason);
        PackageEnvelope.Verify(Signed(KeyB), after);
    }

    [Fact]
    public void UntrustedKey_TamperedPayload_SpoofedKeyIdAndGarbage_AreBadSignature()
    {
        var trust = new PackageTrust { Keys = [Trusted(KeyA)] };
        var tampered = Signed(KeyA);
        var at = tampered.AsSpan().IndexOf("app.bin"u8);
        tampered[at] ^= 0x20;
        var spoofed = PackageEnvelope.Sign(Sgc(), KeyB, Trusted(KeyA).KeyId);

        foreach (var envelope in new[] { Signed(KeyB), tampered, spoofed, [0xA0, 0x01, 0x02], [] })
        {
            var e = Assert.Throws<PackageRejectedException>(() => PackageEnvelope.Verify(envelope, trust));
            Assert.Equal(PackageRejectReason.BadSignature, e.Reason);
        }
    }

    [Fact]
    public void SignedPayloadThatIsNoSgcFile_IsBadFormat_AndOversizeIsRefusedUnread()
    {
        var trust = new PackageTrust { Keys = [Trusted(KeyA)] };

        var e = Assert.Throws<PackageRejectedException>(() => PackageEnvelope.Verify(Signed(KeyA, [9, 9, 9, 9]), trust));
        Assert.Equal(PackageRejectReason.BadFormat, e.Reason);
        var big = Assert.Throws<PackageRejectedException>(() => PackageEnvelope.Verify(new byte[PackageEnvelope.MaxEnvelopeSize + 1], trust));
        Assert.Equal(PackageRejectReason.Oversized, big.Reason);
    }
}

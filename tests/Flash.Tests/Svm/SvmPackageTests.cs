#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using System.Buffers.Binary;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Tests.Svm;

public class SvmPackageTests
{
    private static byte[] Raw(Func<byte[], byte[]>? tamper = null, string? renameFirst = null, int release = 4)
    {
        var pkg = SoftwarePackage.Open(SvmNode.R3, new PackageVerificationOptions { TrustedKeys = [SvmNode.Key.ExportSubjectPublicKeyInfo()] });
        var entries = pkg.Sgc.Components.Select((c, i) => (i == 0 && renameFirst is not null ? renameFirst : c.Name, pkg.Component(c.Name))).ToList();
        var sgc = new SgcFile(new SoftwareVersion((ushort)release, 0, 0), pkg.Sgc.Components, pkg.Sgc.Mappings);
        return SoftwarePackage.BuildRaw(sgc.Release, entries, sgc.ToBytes(), SvmNode.Key, tamper);
    }

    public static TheoryData<string, PackageRejectReason> Cases => new()
    {
        { "bad-signature", PackageRejectReason.BadSignature },
        { "unsigned", PackageRejectReason.BadSignature },
        { "tampered-after-signing", PackageRejectReason.BadSignature },
        { "wrong-checksum", PackageRejectReason.ChecksumMismatch },
        { "truncated", PackageRejectReason.Truncated },
        { "truncated-body", PackageRejectReason.Truncated },
        { "path-escape", PackageRejectReason.PathEscape },
        { "absolute-path", PackageRejectReason.PathEscape },
        { "oversized-entry", PackageRejectReason.Oversized },
        { "rollback", PackageRejectReason.Rollback },
        { "not-a-package", PackageRejectReason.BadFormat },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Bad_packages_are_rejected_with_nothing_written(string kind, PackageRejectReason reason)
    {
        using var installer = new SvmNode();
        installer.Svm.FormatAndInstall(SvmNode.R1);
        using var node = new SvmNode(o => new SvmOptions
        {
            Packages = new PackageVerificationOptions
            {
                TrustedKeys = o.Packages.TrustedKeys,
                AntiRollbackFloor = new SoftwareVersion(1, 5, 0),
                MaxEntrySize = kind == "oversized-entry" ? 55_000 : 1 << 20,
            },
            Sources = o.Sources, FactoryDefaults = o.FactoryDefaults, HealthTimeout = o.HealthTimeout,
        }, installer.Dev0, installer.Dev1);
        node.Svm.Initialize();
        byte[] package = kind switch
        {
            "bad-signature" => SvmNode.Release(3, SvmNode.OtherKey),
            "unsigned" => SoftwarePackage.BuildRaw(new SoftwareVersion(3, 0, 0), [], new SgcFile(new SoftwareVersion(3, 0, 0), [], []).ToBytes(), null),
            "tampered-after-signing" => Flip(SvmNode.R3, SvmNode.R3.Length / 2),
            "wrong-checksum" => Raw(tamper: b => Flip(b, b.Length - 100)),
            "truncated" => SvmNode.R3[..(SvmNode.R3.Length - 1000)],
            "truncated-body" => Raw(tamper: b => b[..^500]),
            "path-escape" => Raw(renameFirst: "../../etc/passwd"),
            "absolute-path" => Raw(renameFirst: "/boot.bin"),
            "oversized-entry" => SvmNode.Release(3),
            "rollback" => SvmNode.R1,
            _ => [1, 2, 3, 4, 5, 6, 7, 8, 9],
        };
        long m0 = node.Dev0.MutationCount;
        long m1 = node.Dev1.MutationCount;
        var ex = Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(package));
        Assert.Equal(reason, ex.Reason);
        Assert.Equal(m0, node.Dev0.MutationCount);
        Assert.Equal(m1, node.Dev1.MutationCount);
        Assert.Contains(node.Events, e => e.Id == SvmEvents.PackageRejected);
    }

    [Fact]
    public void Directory_source_refuses_paths_outside_it()
    {
        var dir = Directory.CreateTempSubdirectory("svm-src-");
        try
        {
            File.WriteAllBytes(Path.Combine(dir.FullName, "r1.pkg"), SvmNode.R1);
            var src = new DirectorySoftwareSource(dir.FullName);
            Assert.Equal(SvmNode.R1, src.Fetch(new TransferParameters("dir", "r1.pkg"), long.MaxValue, default));
            var ex = Assert.Throws<PackageRejectedException>(() => src.Fetch(new TransferParameters("dir", "../r1.pkg"), long.MaxValue, default));
            Assert.Equal(PackageRejectReason.PathEscape, ex.Reason);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static byte[] Flip(byte[] data, int at)
    {
        var copy = data.ToArray();
        copy[at] ^= 0x40;
        return copy;
    }

    [Fact]
    public void Header_is_little_endian_and_versioned()
    {
        Assert.Equal(SoftwarePackage.Magic, BinaryPrimitives.ReadUInt32LittleEndian(SvmNode.R1));
        Assert.Equal(SoftwarePackage.FormatVersion, BinaryPrimitives.ReadUInt16LittleEndian(SvmNode.R1.AsSpan(4)));
    }
}

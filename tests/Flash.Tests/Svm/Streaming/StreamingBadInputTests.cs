#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using System.Buffers.Binary;
using Flash.Ffs.Contexts;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using static Flash.Tests.Svm.Streaming.StreamingReleases;
using static Flash.Tests.Svm.Streaming.StreamingUpgradeTests;

namespace Flash.Tests.Svm.Streaming;

/// <summary>
/// Bad input through the streaming install: each a specific rejection, the current context (software and
/// configuration) unchanged, nothing activatable, nothing left to resume, and the node boots the old release.
/// </summary>
public class StreamingBadInputTests
{
    private static readonly SoftwareVersion V1 = new(1, 0, 0);

    /// <summary>Offset of the first byte of the first component body in a package.</summary>
    private static int BodyStart(byte[] package)
    {
        var count = BinaryPrimitives.ReadUInt32LittleEndian(package.AsSpan(14));
        var sgcLength = BinaryPrimitives.ReadUInt32LittleEndian(package.AsSpan(18));
        var at = 22;
        for (var i = 0; i < count; i++)
        {
            at += 2 + BinaryPrimitives.ReadUInt16LittleEndian(package.AsSpan(at)) + 8 + 8 + 4;
        }

        return at + 8 + (int)sgcLength + 4;
    }

    public static TheoryData<string, PackageRejectReason> Cases => new()
    {
        { "truncated", PackageRejectReason.Truncated },
        { "truncated-header", PackageRejectReason.Truncated },
        { "bad-signature", PackageRejectReason.BadSignature },
        { "digest-mismatch", PackageRejectReason.ChecksumMismatch },
        { "last-component-digest", PackageRejectReason.ChecksumMismatch },
        { "oversize", PackageRejectReason.Oversized },
        { "revoked-key", PackageRejectReason.KeyRevoked },
        { "replayed-older", PackageRejectReason.Rollback },
        { "same-version", PackageRejectReason.SameVersion },
    };

    private static byte[] Craft(string kind)
    {
        var r2 = R2.ToArray();
        switch (kind)
        {
            case "truncated":
                return r2[..^100];
            case "truncated-header":
                return r2[..(BodyStart(r2) - 5)];
            case "bad-signature":
                return Release(2, SvmNode.OtherKey);
            case "digest-mismatch":
                r2[BodyStart(r2) + 10] ^= 0x40;
                return r2;
            case "last-component-digest":
                // The last byte of the last body: detected when the component ends, before the envelope.
                var end = r2.Length - 8 - (int)BinaryPrimitives.ReadUInt32LittleEndian(r2.AsSpan(r2.Length - 8)) - 1;
                r2[end] ^= 0x01;
                return r2;
            case "oversize":
                return Release(2, scale: 4);
            case "revoked-key":
                return Release(2, Revoked);
            case "replayed-older":
                return Release(2, securityCounter: 1);
            default:
                return Release(1);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Rejected_with_the_specific_reason_and_the_node_unchanged(string kind, PackageRejectReason reason)
    {
        var source = new StreamingTestSource();
        source.Add("bad.pkg", Craft(kind));
        using var node = new SvmNode(o => With(o, source, maxPackageSize: 400_000));
        node.InstallAndBoot();
        var before = CurrentContext(node.Svm);
        var table = node.Svm.ReadTable();

        var e = Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(Command("bad.pkg", activation: ActivationMode.TrialBoot)));

        Assert.Equal(reason, e.Reason);
        Assert.Equal(before, CurrentContext(node.Svm));
        var after = node.Svm.ReadTable();
        Assert.Equal(table.Current, after.Current);
        Assert.NotEqual(ContextState.Valid, after.AlternateState);
        Assert.False(after.AlternateBoot);
        Assert.DoesNotContain(AlternateFiles(node.Svm), f => f.StartsWith("install/", StringComparison.Ordinal) || f == SvmLayout.Sgc);
        Assert.Contains(node.Events, ev => ev.Id == SvmEvents.PackageRejected);

        node.Svm.Dispose();
        Assert.Equal(V1, node.Reboot().Initialize().Release);
        Assert.Equal("node-a", node.Svm.ReadConfiguration("node")!.Settings["hostname"]);
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void A_header_rejection_writes_nothing_at_all()
    {
        var source = new StreamingTestSource();
        source.Add("old.pkg", Release(2, securityCounter: 1));
        using var node = new SvmNode(o => With(o, source));
        node.InstallAndBoot();
        var programs = node.Dev0.Statistics.PagePrograms + node.Dev1.Statistics.PagePrograms;

        Assert.Equal(PackageRejectReason.Rollback, Assert.Throws<PackageRejectedException>(() => node.Svm.Upgrade(Command("old.pkg"))).Reason);
        Assert.Equal(programs, node.Dev0.Statistics.PagePrograms + node.Dev1.Statistics.PagePrograms);
    }

    [Fact]
    public void A_key_revoked_after_the_download_is_refused_when_the_install_resumes()
    {
        var source = new StreamingTestSource { ChunkSize = 1 << 20 };
        source.Add("r2.pkg", R2);
        using var node = new SvmNode(o => With(o, source));
        node.InstallAndBoot();
        // The whole package arrives and verifies; the command is cancelled before the alternate is sealed.
        using var cancel = new CancellationTokenSource();
        var progress = new CancelAt(cancel, "verify");
        Assert.ThrowsAny<OperationCanceledException>(() => node.Svm.Upgrade(Command("r2.pkg"), progress, cancel.Token));
        Assert.Contains("install/trailer", AlternateFiles(node.Svm));
        var before = CurrentContext(node.Svm);
        node.Svm.Dispose();

        // The signing key is revoked meanwhile: the stored envelope is verified again, and refused.
        var revoking = new PackageTrust { Keys = Trust.Keys, RevokedKeyIds = [KeyId(SvmNode.Key)] };
        using var later = new SvmNode(o => With(o, source, trust: revoking), node.Dev0, node.Dev1);
        later.Svm.Initialize();
        var e = Assert.Throws<PackageRejectedException>(() => later.Svm.Upgrade(Command("r2.pkg")));

        Assert.Equal(PackageRejectReason.KeyRevoked, e.Reason);
        Assert.Single(source.StartOffsets);
        Assert.Equal(before, CurrentContext(later.Svm));
        Assert.NotEqual(ContextState.Valid, later.Svm.ReadTable().AlternateState);
        Assert.DoesNotContain(AlternateFiles(later.Svm), f => f.StartsWith("install/", StringComparison.Ordinal));
    }

    private sealed class CancelAt(CancellationTokenSource cancel, string phase) : IProgress<UpgradeProgress>
    {
        public void Report(UpgradeProgress value)
        {
            if (value.Phase == phase)
            {
                cancel.Cancel();
            }
        }
    }
}

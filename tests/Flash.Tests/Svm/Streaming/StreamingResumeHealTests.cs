#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Flash.Tests.Mirror;
using static Flash.Tests.Svm.Streaming.StreamingReleases;

namespace Flash.Tests.Svm.Streaming;

/// <summary>
/// A resumed streaming install re-hashes the stored part of the component it stopped in, read back from the primary in
/// ranges. A page of that part damaged on the primary (an uncorrectable bit error) is healed from the secondary by the
/// ranged read, so the install continues from its durable offset instead of downloading the package from zero.
/// </summary>
public class StreamingResumeHealTests
{
    [Fact]
    public void A_damaged_page_of_the_stored_prefix_is_healed_and_the_install_resumes_inside_the_component()
    {
        var package = Release(2, scale: 10);
        var header = PackageHeader.TryParse(package, new PackageVerificationOptions())!;
        var app = header.Entries.Single(e => e.Name == "traffic-app.bin");
        Assert.True(app.Length > 2 * 256 * 1024, "the component spans three slices");
        var source = new StreamingTestSource { ChunkSize = 64 * 1024, FailAfterBytes = header.Length + app.Offset + 300_000 };
        source.Add("r2.pkg", package);
        using var node = new SvmNode(o => With(o, source));
        node.InstallAndBoot();

        // The transfer breaks inside the component's second slice: its first slice (256 KiB) is durable on both devices.
        Assert.Throws<UpgradeFailedException>(() => node.Svm.Upgrade(Command("r2.pkg")));
        var pair = node.Svm.Storage;
        Assert.Equal(256 * 1024, pair.AlternateLength("components/traffic-app.bin"));
        var primary = ReferenceEquals(pair.Primary.Device, node.Dev0) ? node.Dev0 : node.Dev1;
        PairRig.DamagePageHolding(primary, SvmNode.Content("traffic-app.bin", 2, (int)app.Length).AsSpan(100_000, 64));
        var healed = new List<SelfHealEventArgs>();
        pair.SelfHealed += (_, e) => healed.Add(e);

        var result = node.Svm.Upgrade(Command("r2.pkg"));

        Assert.Equal(new SoftwareVersion(2, 0, 0), result.Release);
        Assert.Equal(2, source.StartOffsets.Count);
        Assert.Equal(header.Length + app.Offset + (256 * 1024), source.StartOffsets[1]); // resumed at the durable offset, not from zero
        Assert.Equal(pair.Primary.DeviceId, Assert.Single(healed).DeviceId);
        Assert.Equal(ContextState.Valid, node.Svm.ReadTable().AlternateState);
        foreach (var dev in node.Svm.Devices)
        {
            Assert.True(node.Svm.Verify(dev, dev.Table!.Alternate, checkConfiguration: false).SoftwareOk);
        }
    }

}

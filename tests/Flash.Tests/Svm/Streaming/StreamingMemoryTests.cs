#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Svm;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using static Flash.Tests.Svm.Streaming.StreamingReleases;

namespace Flash.Tests.Svm.Streaming;

/// <summary>
/// The streaming install holds no more than one slice of a component (plus header and trailer) whatever the package
/// or component size: the managed heap that stays live between the install's steps grows by far less than the
/// package, which is many times larger than the 1 MiB budget, and what the install allocates is a fraction of what it
/// stores (the slice buffers are reused). The heap is measured process-wide, so the class runs alone (no other test allocating).
/// </summary>
[Collection(nameof(StreamingMemoryTests))]
public class StreamingMemoryTests(ITestOutputHelper output)
{
    private static readonly FlashGeometry Large = new(2048, 64, 64, 512);

    private static byte[] Big(int components, int size)
    {
        var comps = Enumerable.Range(0, components)
            .Select(i => new PackageComponent($"part{i:D3}.bin", new SoftwareVersion(2, 0, 0), SvmNode.Content($"part{i:D3}.bin", 2, size)))
            .ToList();
        var maps = comps.Select(c => new SgcMapping("traffic", SgcMapping.AnySlot, c.Name)).ToList();
        return SoftwarePackage.BuildEnveloped(new SoftwareVersion(2, 0, 0), comps, maps, SvmNode.Key, KeyId(SvmNode.Key));
    }

    [Fact]
    public void A_package_far_over_one_MiB_streams_in_bounded_memory()
    {
        const int components = 64;
        const int size = 256 * 1024;
        var package = Big(components, size);
        var source = new StreamingTestSource { ChunkSize = 64 * 1024 };
        source.Add("big.pkg", package);
        var dev0 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Large, Seed = 1 });
        var dev1 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Large, Seed = 2 });
        using var node = new SvmNode(o => With(o, source), dev0, dev1);
        node.InstallAndBoot();

        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        var peak = new LivePeak();
        var result = node.Svm.Upgrade(Command("big.pkg"), peak);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

        Assert.Equal(new SoftwareVersion(2, 0, 0), result.Release);
        Assert.Equal(components, peak.Samples);
        var growth = peak.Max - baseline;
        output.WriteLine($"package {package.Length} bytes; live heap growth between steps {growth} bytes; allocated on the command thread {allocated} bytes");
        Assert.True(growth < 2L << 20, $"the live heap grew by {growth} bytes while a {package.Length}-byte package streamed");
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void One_component_of_32_MiB_streams_in_slices_in_bounded_memory()
    {
        const int size = 32 << 20;
        var package = Big(1, size);
        var source = new StreamingTestSource { ChunkSize = 64 * 1024 };
        source.Add("big.pkg", package);
        var dev0 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Large, Seed = 1 });
        var dev1 = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Large, Seed = 2 });
        using var node = new SvmNode(o => With(o, source, maxPackageSize: 64L << 20), dev0, dev1);
        node.InstallAndBoot();

        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        var peak = new LivePeak();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var result = node.Svm.Upgrade(Command("big.pkg"), peak);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        Assert.Equal(new SoftwareVersion(2, 0, 0), result.Release);
        Assert.Equal(1, peak.Samples);

        // The staged copy and the read-back of each slice reuse the pair's buffers: garbage is a fraction of the
        // component, not two fresh 256 KiB arrays per slice (over 2 x the component before).
        output.WriteLine($"allocated {allocated} bytes for a {size}-byte component");
        Assert.True(allocated < size / 2, $"{allocated} bytes allocated while a {size}-byte component streamed");
        Assert.True(peak.SliceSamples >= (size / (256 * 1024)) - 1, $"{peak.SliceSamples} slices stored");
        var growth = peak.Max - baseline;
        output.WriteLine($"package {package.Length} bytes, one component; live heap growth between slices {growth} bytes over {peak.SliceSamples} slices");
        Assert.True(growth < 2L << 20, $"the live heap grew by {growth} bytes while a {size}-byte component streamed");
        foreach (var dev in node.Svm.Devices)
        {
            Assert.True(node.Svm.Verify(dev, dev.Table!.Alternate, checkConfiguration: false).SoftwareOk);
        }
    }

    /// <summary>Samples the live managed heap (after a full collection) each time a component or a slice of one was stored.</summary>
    private sealed class LivePeak : IProgress<UpgradeProgress>
    {
        public long Max { get; private set; }

        public int Samples { get; private set; }

        public int SliceSamples { get; private set; }

        public void Report(UpgradeProgress value)
        {
            if (value.Phase == "store-slice")
            {
                SliceSamples++;
            }
            else if (value.Phase == "store-primary")
            {
                Samples++;
            }
            else
            {
                return;
            }

            Max = Math.Max(Max, GC.GetTotalMemory(forceFullCollection: true));
        }
    }
}

/// <summary>Runs <see cref="StreamingMemoryTests"/> after the parallel tests, alone.</summary>
[CollectionDefinition(nameof(StreamingMemoryTests), DisableParallelization = true)]
#pragma warning disable CA1515 // xunit collection definitions must be public.
public sealed class StreamingMemoryCollection;
#pragma warning restore CA1515

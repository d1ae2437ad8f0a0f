#pragma warning disable xUnit1051 // SVM calls are synchronous; test cancellation is not needed.
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Flash.Svm;

namespace Flash.Tests.Svm;

/// <summary>The upgrade's copy to the secondary is read back from the primary and checked against the SGC digests (claim 36), with the primary restricted meanwhile (claim 37).</summary>
public class SvmVerifiedCopyTests
{
    private static readonly byte[] TrafficApp2 = SvmNode.Content("traffic-app.bin", 2, 60_000);

    [Fact]
    public void The_backup_is_read_back_from_the_primary_and_matches_on_both_devices()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        Assert.Same(node.Dev0, node.Svm.Primary.Device);
        long reads0 = node.Dev0.Statistics.Capture().PageReads;
        long reads1 = node.Dev1.Statistics.Capture().PageReads;
        var result = node.Svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.None);

        // Every byte written was read back from the primary once; the secondary was only written.
        long payloadPages = result.BytesWritten / SvmNode.Geometry.PageSize;
        Assert.True(node.Dev0.Statistics.Capture().PageReads - reads0 >= payloadPages, "the primary was not read back");
        long secondaryReads = node.Dev1.Statistics.Capture().PageReads - reads1;
        // A read as a source would be a read a payload page; what the secondary reads is its own bookkeeping (mount,
        // checkpoints, and the erase check of each block opened: its first, second and last pages).
        Assert.True(secondaryReads < payloadPages / 2, $"the secondary was read like a source: {secondaryReads} page reads for {payloadPages} payload pages");
        foreach (var dev in node.Svm.Devices)
        {
            Assert.Equal(ContextState.Valid, dev.Table!.AlternateState);
            Assert.True(node.Svm.Verify(dev, dev.Table.Alternate, checkConfiguration: false).SoftwareOk);
        }

        SvmNode.AssertStorageSane(node.Svm);
    }

    [Fact]
    public void A_wrong_copy_on_the_primary_is_healed_before_it_reaches_the_secondary()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Svm.Dispose();
        var primary = new CorruptingDevice(node.Dev0);
        using var svm = new SoftwareVersionManager(primary, node.Dev1, node.Bus, node.Options);
        svm.Initialize();
        var healed = new List<SelfHealEventArgs>();
        svm.Storage.SelfHealed += (_, e) => healed.Add(e);
        primary.Arm(TrafficApp2, times: 1);

        svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.None);
        Assert.Equal(1, primary.Corrupted);
        var heal = Assert.Single(healed);
        Assert.Equal(svm.Primary.DeviceId, heal.DeviceId);
        Assert.EndsWith("/components/traffic-app.bin", heal.Path, StringComparison.Ordinal);
        foreach (var dev in svm.Devices)
        {
            Assert.True(svm.Verify(dev, dev.Table!.Alternate, checkConfiguration: false).SoftwareOk);
        }

        SvmNode.AssertStorageSane(svm);
    }

    [Fact]
    public void A_copy_that_stays_wrong_fails_the_upgrade_with_a_specific_error_and_never_reaches_the_secondary()
    {
        using var node = new SvmNode();
        node.InstallAndBoot();
        node.Svm.Dispose();
        var primary = new CorruptingDevice(node.Dev0);
        var events = new List<SvmEventArgs>();
        using var svm = new SoftwareVersionManager(primary, node.Dev1, node.Bus, node.Options);
        svm.Event += (_, e) => events.Add(e);
        svm.Initialize();
        primary.Arm(TrafficApp2, times: int.MaxValue);

        var ex = Assert.Throws<UpgradeFailedException>(() => svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.None));
        var inner = Assert.IsType<BackupVerificationException>(ex.InnerException);
        Assert.EndsWith("/components/traffic-app.bin", inner.Path, StringComparison.Ordinal);
        Assert.Equal(svm.Primary.DeviceId, inner.DeviceId);
        Assert.Contains(events, e => e.Id == SvmEvents.UpgradeCopyNotVerified);
        Assert.Contains(events, e => e.Id == SvmEvents.UpgradeFailed);

        // The alternate is invalid and empty on both devices, the pair is redundant again, the current context untouched.
        Assert.False(svm.Storage.IsDegraded);
        foreach (var dev in svm.Devices)
        {
            Assert.Equal(ContextState.Invalid, dev.Table!.AlternateState);
            Assert.Empty(Run(svm.Storage.ListAsync(dev, dev.Table.Alternate)));
        }

        SvmNode.AssertStorageSane(svm);
        svm.Dispose();
        var report = node.Reboot().Initialize();
        Assert.Equal(new Flash.Svm.Sgc.SoftwareVersion(1, 0, 0), report.Release);
        SvmNode.AssertStorageSane(node.Svm);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Reads_of_the_primary_wait_with_a_bound_while_an_upgrade_is_copied(bool restrict)
    {
        using var node = new SvmNode(o => new SvmOptions
        {
            Packages = o.Packages, Sources = o.Sources, HealthTimeout = o.HealthTimeout, FactoryDefaults = o.FactoryDefaults,
            RestrictPrimaryDuringUpgradeCopy = restrict, RestrictedReadTimeout = TimeSpan.FromMilliseconds(20),
        });
        node.InstallAndBoot();
        node.Svm.Dispose();
        var slowSecondary = new SlowDevice(node.Dev1);
        using var svm = new SoftwareVersionManager(node.Dev0, slowSecondary, node.Bus, node.Options);
        svm.Initialize();
        slowSecondary.Delay = TimeSpan.FromMilliseconds(2);
        int restricted = 0;
        int served = 0;
        using var stop = new CancellationTokenSource();
        var pair = svm.Storage;
        var reader = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await pair.ReadCurrentAsync("components/boot.bin");
                    served++;
                }
                catch (PrimaryRestrictedException)
                {
                    restricted++;
                }
            }
        });
        try
        {
            svm.Upgrade(SvmNode.R2, UpgradeMode.Full, ActivationMode.None);
        }
        finally
        {
            stop.Cancel();
            await reader;
        }

        Assert.True(served > 0, "no read was served during the upgrade");
        if (restrict)
        {
            Assert.True(restricted > 0, "no read met the restricted primary");
        }
        else
        {
            Assert.Equal(0, restricted);
        }

        SvmNode.AssertStorageSane(svm);
    }

    private static T Run<T>(Task<T> task) => task.GetAwaiter().GetResult();

    /// <summary>Stores a corrupted copy of any page that carries a marked stretch of a component (as a fault in the write path would).</summary>
    private sealed class CorruptingDevice(FlashSimulator inner) : IFlashDevice
    {
        private byte[][] _marks = [];
        private int _left;

        public int Corrupted { get; private set; }

        public FlashGeometry Geometry => inner.Geometry;

        public FlashStatistics Statistics => inner.Statistics;

        public void Arm(byte[] content, int times)
        {
            _marks = [content.AsSpan(5000, 48).ToArray(), content.AsSpan(9000, 48).ToArray(), content.AsSpan(30_000, 48).ToArray()];
            _left = times;
        }

        public ReadResult Read(int page, Span<byte> data, Span<byte> spare) => inner.Read(page, data, spare);

        public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
        {
            if (_left > 0 && Marked(data))
            {
                _left--;
                Corrupted++;
                var bad = data.ToArray();
                for (int i = 0; i < 16; i++)
                {
                    bad[(i * 97) % bad.Length] ^= 0x5A;
                }

                inner.Program(page, bad, spare);
                return;
            }

            inner.Program(page, data, spare);
        }

        public void Erase(int block) => inner.Erase(block);

        public bool IsBad(int block) => inner.IsBad(block);

        public void MarkBad(int block) => inner.MarkBad(block);

        public void Dispose()
        {
        }

        private bool Marked(ReadOnlySpan<byte> data)
        {
            foreach (var m in _marks)
            {
                if (data.IndexOf(m) >= 0)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>A device whose programs take longer (in wall-clock time), so that a backup lasts.</summary>
    private sealed class SlowDevice(FlashSimulator inner) : IFlashDevice
    {
        public TimeSpan Delay { get; set; }

        public FlashGeometry Geometry => inner.Geometry;

        public FlashStatistics Statistics => inner.Statistics;

        public ReadResult Read(int page, Span<byte> data, Span<byte> spare) => inner.Read(page, data, spare);

        public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
        {
            if (Delay > TimeSpan.Zero)
            {
                Thread.Sleep(Delay);
            }

            inner.Program(page, data, spare);
        }

        public void Erase(int block) => inner.Erase(block);

        public bool IsBad(int block) => inner.IsBad(block);

        public void MarkBad(int block) => inner.MarkBad(block);

        public void Dispose()
        {
        }
    }
}

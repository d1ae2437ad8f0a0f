using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Microsoft.Extensions.Logging;

namespace Flash.Tests.Ffs;

/// <summary>
/// Recovery drops only what depends on a damaged page (issue 16): a transaction with a data page whose payload
/// cannot be verified is dropped whole, later independent changes are applied, and later changes of the same entries
/// (or put into a directory the dropped one created) are dropped and reported. Every image here is hand-made: a
/// volume written after its checkpoint, saved without unmounting, one byte of one data page's payload flipped.
/// </summary>
public class ReplayDependencyTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 64, 24);

    private static int Raw => s_geometry.PageSize + s_geometry.SpareSize;

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, EventId Id, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Entries.Add((logLevel, eventId, formatter(state, exception)));
    }

    private static (FlashSimulator Dev, FlashFileSystem Fs) Fresh()
    {
        var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 5 });
        return (dev, FfsTestDevice.FormatAndMount(dev));
    }

    private static byte[] Save(FlashSimulator dev)
    {
        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        return ms.ToArray();
    }

    /// <summary>Flips one payload byte of the newest data page holding <paramref name="chunk"/> (2 KiB of a file's content).</summary>
    private static int DamagePayloadOf(byte[] image, ReadOnlySpan<byte> chunk)
    {
        int found = -1;
        for (int p = 0; p < s_geometry.PageCount; p++)
        {
            if (image.AsSpan(p * Raw, chunk.Length).SequenceEqual(chunk))
            {
                found = p;
            }
        }

        Assert.True(found >= 0, "the chunk is on flash");
        image[(found * Raw) + 100] ^= 0x10;
        return found;
    }

    private static (FlashSimulator Dev, FlashFileSystem Fs, RecordingLogger Log) MountDamaged(byte[] image)
    {
        var dev = FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = s_geometry });
        var log = new RecordingLogger();
        return (dev, FlashFileSystem.Mount(dev, new FlashFileSystemOptions { Logger = log }), log);
    }

    private static void AssertStillUsable(FlashSimulator dev, FlashFileSystem fs)
    {
        var data = FfsTestDevice.Pattern(7000, 99);
        fs.WriteAllBytes("/after", data);
        fs.Unmount();
        var again = FlashFileSystem.Mount(dev);
        Assert.Equal(data, again.ReadAllBytes("/after"));
        again.Unmount();
    }

    [Fact]
    public void Independent_transactions_after_a_damaged_one_are_applied()
    {
        var (dev, fs) = Fresh();
        var pad = FfsTestDevice.Pattern(5000, 1);
        var victim = FfsTestDevice.Pattern(3 * 2048, 2);
        var others = Enumerable.Range(0, 4).Select(i => FfsTestDevice.Pattern(2500 + (i * 1000), 10 + i)).ToArray();
        var small = FfsTestDevice.Pattern(200, 20);
        fs.WriteAllBytes("/pad", pad);
        fs.Sync();
        fs.WriteAllBytes("/victim", victim);
        for (int i = 0; i < others.Length; i++)
        {
            fs.WriteAllBytes($"/other{i}", others[i]);
        }

        fs.CreateDirectory("/dir");
        fs.WriteAllBytes("/dir/small", small);
        var image = Save(dev);
        dev.Dispose();
        int damaged = DamagePayloadOf(image, victim.AsSpan(2048, 2048));

        var (d, mounted, log) = MountDamaged(image);
        using (d)
        {
            Assert.False(mounted.Exists("/victim"));
            Assert.Equal(pad, mounted.ReadAllBytes("/pad"));
            for (int i = 0; i < others.Length; i++)
            {
                Assert.Equal(others[i], mounted.ReadAllBytes($"/other{i}"));
            }

            Assert.Equal(small, mounted.ReadAllBytes("/dir/small"));
            var report = mounted.MountReport;
            Assert.Contains(damaged, report.DamagedPages);
            Assert.Null(report.ReplayStoppedAt);
            var dropped = Assert.Single(report.Dropped);
            Assert.Contains("cannot be read", dropped);
            Assert.Contains(log.Entries, e => e.Level == LogLevel.Warning && e.Id == FfsEvents.RecoveryDropped);
            Assert.Contains(mounted.Check().Problems, p => p.Kind == FsckProblemKind.DroppedChanges);
            AssertStillUsable(d, mounted);
        }
    }

    [Fact]
    public void A_damaged_rewrite_keeps_the_committed_content_and_drops_only_its_own_later_changes()
    {
        var (dev, fs) = Fresh();
        var v1 = FfsTestDevice.Pattern(4 * 2048, 3);
        var v2 = FfsTestDevice.Pattern(4 * 2048, 4);
        var other = FfsTestDevice.Pattern(6000, 5);
        var later = FfsTestDevice.Pattern(3000, 6);
        fs.WriteAllBytes("/file", v1);
        fs.Sync();
        fs.WriteAllBytes("/file", v2);
        fs.WriteAllBytes("/other", other);

        // Depends on the damaged rewrite: the same file, renamed, then appended to.
        fs.Rename("/file", "/renamed");
        using (var f = fs.Open("/renamed"))
        {
            f.Seek(0, SeekOrigin.End);
            f.Write(later);
        }

        fs.WriteAllBytes("/independent", later);
        var image = Save(dev);
        dev.Dispose();
        DamagePayloadOf(image, v2.AsSpan(2 * 2048, 2048));

        var (d, mounted, _) = MountDamaged(image);
        using (d)
        {
            // Never the damaged v2, never v2 under the new name: the content committed before the damage.
            Assert.Equal(v1, mounted.ReadAllBytes("/file"));
            Assert.False(mounted.Exists("/renamed"));
            Assert.Equal(other, mounted.ReadAllBytes("/other"));
            Assert.Equal(later, mounted.ReadAllBytes("/independent"));
            var report = mounted.MountReport;
            Assert.True(report.Dropped.Count >= 3, string.Join("; ", report.Dropped));
            Assert.Contains(report.Dropped, x => x.Contains("cannot be read", StringComparison.Ordinal));
            Assert.Contains(report.Dropped, x => x.Contains("depends on entry", StringComparison.Ordinal));
            AssertStillUsable(d, mounted);
        }
    }

    [Fact]
    public void Entries_created_in_a_directory_a_dropped_transaction_made_are_dropped_and_reported()
    {
        var (dev, fs) = Fresh();
        var inDir = FfsTestDevice.Pattern(3 * 2048, 7);
        var child = FfsTestDevice.Pattern(300, 8);
        var outside = FfsTestDevice.Pattern(5000, 9);
        fs.WriteAllBytes("/pad", outside);
        fs.Sync();
        using (var t = fs.BeginTransaction())
        {
            t.CreateDirectory("/made").WriteAllBytes("/made/big", inDir).Commit();
        }

        fs.WriteAllBytes("/made/child", child);
        fs.CreateDirectory("/made/sub");
        fs.WriteAllBytes("/outside", outside);
        var image = Save(dev);
        dev.Dispose();
        DamagePayloadOf(image, inDir.AsSpan(2048, 2048));

        var (d, mounted, _) = MountDamaged(image);
        using (d)
        {
            Assert.False(mounted.Exists("/made"));
            Assert.Equal(outside, mounted.ReadAllBytes("/outside"));
            Assert.Equal(outside, mounted.ReadAllBytes("/pad"));
            var report = mounted.MountReport;
            Assert.Equal(3, report.Dropped.Count);
            Assert.Equal(2, report.Dropped.Count(x => x.Contains("depends on entry", StringComparison.Ordinal)));
            Assert.DoesNotContain(mounted.Check().Problems, p => p.Kind != FsckProblemKind.DroppedChanges);
            AssertStillUsable(d, mounted);
        }
    }
    [Fact]
    public void A_later_change_that_writes_an_entry_whole_does_not_depend_on_a_dropped_change_of_it()
    {
        var (dev, fs) = Fresh();
        var v1 = FfsTestDevice.Pattern(3 * 2048, 30);
        var v2 = FfsTestDevice.Pattern(3 * 2048, 31);
        var v3 = FfsTestDevice.Pattern(2 * 2048, 32);
        var cfg1 = FfsTestDevice.Pattern(120, 33);
        var cfg2 = FfsTestDevice.Pattern(140, 34);
        fs.WriteAllBytes("/file", v1);
        fs.Sync();
        using (var t = fs.BeginTransaction())
        {
            t.WriteAllBytes("/file", v2).WriteAllBytes("/cfg", cfg1).CreateDirectory("/d").Commit();
        }

        // Each of these defines its entry whole (data rewritten in full, a small file's inline record, a directory's
        // record), so the damage of the transaction before does not matter to them.
        fs.WriteAllBytes("/file", v3);
        fs.WriteAllBytes("/cfg", cfg2);
        fs.Rename("/d", "/e");
        var image = Save(dev);
        dev.Dispose();
        DamagePayloadOf(image, v2.AsSpan(2048, 2048));

        var (d, mounted, _) = MountDamaged(image);
        using (d)
        {
            Assert.Equal(v3, mounted.ReadAllBytes("/file"));
            Assert.Equal(cfg2, mounted.ReadAllBytes("/cfg"));
            Assert.True(mounted.GetEntry("/e").IsDirectory);
            Assert.False(mounted.Exists("/d"));
            Assert.Single(mounted.MountReport.Dropped);
            AssertStillUsable(d, mounted);
        }
    }
}

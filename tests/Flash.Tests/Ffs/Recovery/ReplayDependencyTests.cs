using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Microsoft.Extensions.Logging;

namespace Flash.Tests.Ffs.Recovery;

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

    /// <summary>
    /// The arrange step every test shares: the volume as a power cut leaves it (saved without unmounting), one payload
    /// byte of the newest page holding <paramref name="chunk"/> flipped, mounted again with a recording logger.
    /// </summary>
    private static Damaged CutDamageAndMount(FlashSimulator dev, ReadOnlySpan<byte> chunk)
    {
        var image = Save(dev);
        dev.Dispose();
        int page = DamagePayloadOf(image, chunk);
        var damaged = FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = s_geometry });
        var log = new RecordingLogger();
        return new Damaged(damaged, FlashFileSystem.Mount(damaged, new FlashFileSystemOptions { Logger = log }), log, page);
    }

    /// <summary>A volume mounted from a damaged image; disposing it disposes the device.</summary>
    private sealed record Damaged(FlashSimulator Dev, FlashFileSystem Fs, RecordingLogger Log, int Page) : IDisposable
    {
        public void Dispose() => Dev.Dispose();
    }

    private static void AssertStillUsable(Damaged damaged) => AssertStillUsable(damaged.Dev, damaged.Fs);

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
        using var damaged = CutDamageAndMount(dev, victim.AsSpan(2048, 2048));
        Assert.False(damaged.Fs.Exists("/victim"));
        Assert.Equal(pad, damaged.Fs.ReadAllBytes("/pad"));
        for (int i = 0; i < others.Length; i++)
        {
            Assert.Equal(others[i], damaged.Fs.ReadAllBytes($"/other{i}"));
        }

        Assert.Equal(small, damaged.Fs.ReadAllBytes("/dir/small"));
        var report = damaged.Fs.MountReport;
        Assert.Contains(damaged.Page, report.DamagedPages);
        Assert.Null(report.ReplayStoppedAt);
        var dropped = Assert.Single(report.Dropped);
        Assert.Contains("cannot be read", dropped);

        // A second recovery would leave out what is written after this mount too: the mount wrote its outcome down.
        Assert.True(report.CheckpointWritten, report.ToString());
        Assert.Equal("the replay met damaged pages", report.CheckpointReason);
        var warning = Assert.Single(damaged.Log.Entries, e => e.Id == FfsEvents.RecoveryDropped && e.Message.StartsWith("Recovery met", StringComparison.Ordinal));
        // Replay did not stop (no sequence gap): the summary says so instead of naming an empty sequence.
        Assert.Contains("(replay ran to the end)", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("sequence )", warning.Message, StringComparison.Ordinal);
        Assert.Contains(damaged.Fs.Check().Problems, p => p.Kind == FsckProblemKind.DroppedChanges);
        AssertStillUsable(damaged);
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
        using var damaged = CutDamageAndMount(dev, v2.AsSpan(2 * 2048, 2048));
        // Never the damaged v2, never v2 under the new name: the content committed before the damage.
        Assert.Equal(v1, damaged.Fs.ReadAllBytes("/file"));
        Assert.False(damaged.Fs.Exists("/renamed"));
        Assert.Equal(other, damaged.Fs.ReadAllBytes("/other"));
        Assert.Equal(later, damaged.Fs.ReadAllBytes("/independent"));
        var report = damaged.Fs.MountReport;
        Assert.True(report.Dropped.Count >= 3, string.Join("; ", report.Dropped));
        Assert.Contains(report.Dropped, x => x.Contains("cannot be read", StringComparison.Ordinal));
        Assert.Contains(report.Dropped, x => x.Contains("depends on entry", StringComparison.Ordinal));
        AssertStillUsable(damaged);
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
        using var damaged = CutDamageAndMount(dev, inDir.AsSpan(2048, 2048));
        Assert.False(damaged.Fs.Exists("/made"));
        Assert.Equal(outside, damaged.Fs.ReadAllBytes("/outside"));
        Assert.Equal(outside, damaged.Fs.ReadAllBytes("/pad"));
        var report = damaged.Fs.MountReport;
        Assert.Equal(3, report.Dropped.Count);
        Assert.Equal(2, report.Dropped.Count(x => x.Contains("depends on entry", StringComparison.Ordinal)));
        Assert.DoesNotContain(damaged.Fs.Check().Problems, p => p.Kind != FsckProblemKind.DroppedChanges);
        AssertStillUsable(damaged);
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
        using var damaged = CutDamageAndMount(dev, v2.AsSpan(2048, 2048));
        Assert.Equal(v3, damaged.Fs.ReadAllBytes("/file"));
        Assert.Equal(cfg2, damaged.Fs.ReadAllBytes("/cfg"));
        Assert.True(damaged.Fs.GetEntry("/e").IsDirectory);
        Assert.False(damaged.Fs.Exists("/d"));
        Assert.Single(damaged.Fs.MountReport.Dropped);
        AssertStillUsable(damaged);
    }

    /// <param name="kind">The copy: 1 a data page, 2 a metadata page with a small file's inline data.</param>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_damaged_relocated_copy_is_dropped_alone(int kind)
    {
        // Churn a small volume until garbage collection has moved a data page after the last checkpoint.
        var geometry = FfsTestDevice.Small;
        int raw = geometry.PageSize + geometry.SpareSize;
        var dev = FfsTestDevice.Create(geometry, seed: 11);
        var fs = FfsTestDevice.FormatAndMount(dev, new FlashFileSystemOptions { CheckpointIntervalBlocks = 40 });
        var history = new Dictionary<string, List<byte[]>>();
        byte[] image = [];
        int relocated = -1;
        for (int round = 0; round < 600 && relocated < 0; round++)
        {
            // Files that stay, mixed into blocks with files that are rewritten, leave blocks half live.
            string path = round % 3 == 0 && round < 240 ? $"/keep{round}" : $"/f{round % 5}";
            var data = FfsTestDevice.Pattern(round % 6 == 0 ? 150 + round : 2048 * (1 + (round % 4)), 100 + round);
            fs.WriteAllBytes(path, data);
            (history.TryGetValue(path, out var list) ? list : history[path] = []).Add(data);
            image = Save(dev);
            var tags = Enumerable.Range(0, geometry.PageCount)
                .Select(p => (Page: p, Tag: image.AsSpan((p * raw) + geometry.PageSize + geometry.SpareFreeOffset, 32).ToArray()))
                .Where(t => t.Tag[0] is 0xF1 or 0xF2)
                .Select(t => (t.Page, Kind: t.Tag[1] & 0x0F, Relocated: (t.Tag[1] & 0x20) != 0, Seq: BitConverter.ToUInt64(t.Tag, 4) & 0xFFFF_FFFF_FFFF, Txn: BitConverter.ToUInt32(t.Tag, 20)))
                .ToList();
            ulong checkpoint = tags.Where(t => t.Kind == 3).Max(t => t.Seq);
            ulong newest = tags.Max(t => t.Seq);
            relocated = tags.Where(t => t.Kind == kind && t.Relocated && t.Txn == 0 && t.Seq > checkpoint && t.Seq < newest)
                .Select(t => t.Page).DefaultIfEmpty(-1).First();
        }

        Assert.True(relocated >= 0, "garbage collection moved a page after the last checkpoint");
        dev.Dispose();
        image[(relocated * raw) + 100] ^= 0x01;
        using var damaged = FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = geometry });
        var mounted = FlashFileSystem.Mount(damaged);
        var report = mounted.MountReport;
        Assert.Contains(relocated, report.DamagedPages);
        var dropped = Assert.Single(report.Dropped);
        Assert.Contains("relocated copy", dropped);
        foreach (var (path, versions) in history)
        {
            try
            {
                var read = mounted.ReadAllBytes(path);
                Assert.Equal(versions[^1], read);
            }
            catch (FlashDataCorruptException)
            {
                // The earlier page of the moved chunk was reclaimed: a corruption error, never other bytes.
            }
        }

        AssertStillUsable(damaged, mounted);
    }

    [Fact]
    public void A_damaged_page_of_a_data_only_overwrite_reads_as_corrupt_and_drops_nothing()
    {
        // An overwrite that keeps the size commits with its last data page and is applied without reading its
        // payloads at mount (docs/format.md, "Damage"); the read of the damaged chunk fails instead of other bytes.
        var (dev, fs) = Fresh();
        var v1 = FfsTestDevice.Pattern(4 * 2048, 40);
        var patch = FfsTestDevice.Pattern(2 * 2048, 41);
        var other = FfsTestDevice.Pattern(3000, 42);
        fs.WriteAllBytes("/file", v1);
        fs.Sync();
        using (var f = fs.Open("/file"))
        {
            f.Seek(2048, SeekOrigin.Begin);
            f.Write(patch);
        }

        fs.WriteAllBytes("/other", other);
        using var damaged = CutDamageAndMount(dev, patch.AsSpan(0, 2048));
        Assert.Empty(damaged.Fs.MountReport.Dropped);
        Assert.Throws<FlashDataCorruptException>(() => damaged.Fs.ReadAllBytes("/file"));
        Assert.Equal(other, damaged.Fs.ReadAllBytes("/other"));
        Assert.Contains(damaged.Fs.Check().Problems, p => p.Kind == FsckProblemKind.CrcMismatch && p.Path == "/file");
        AssertStillUsable(damaged);
    }
}

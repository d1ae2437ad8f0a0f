using System.Text;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Format;

namespace Flash.Tests.Ffs.Index;

/// <summary>
/// A chunk whose only copy was unreadable (dropped by <c>Check(repair: true)</c>) reads as corrupt, and keeps doing so
/// across mounts (the version-3 checkpoint records it), until the file's data there is defined again: a write of the
/// whole chunk, a truncation below it, a whole-file write or a delete. Never as zeros, never as other bytes.
/// </summary>
public class LostChunksTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 16, 32);

    [Fact]
    public void A_lost_chunk_reads_as_corrupt_after_remounts_while_the_chunks_around_it_read_back()
    {
        var (dev, a) = VolumeWithLostChunk();
        using var _ = dev;
        for (int mount = 0; mount < 2; mount++)
        {
            using var fs = FlashFileSystem.Mount(dev);
            Assert.True(fs.Check().IsClean);
            Assert.Throws<FlashDataCorruptException>(() => fs.ReadAllBytes("/a"));
            int chunk = fs.ChunkSize;
            Assert.Equal(a.AsSpan(0, chunk).ToArray(), ReadRange(fs, "/a", 0, chunk));
            Assert.Equal(a.AsSpan(2 * chunk, chunk).ToArray(), ReadRange(fs, "/a", 2 * chunk, chunk));
            Assert.Throws<FlashDataCorruptException>(() => ReadRange(fs, "/a", chunk + 100, 10));
        }

        Assert.Equal([1u], Entry(dev, "a").Lost.ToArray());
    }

    [Fact]
    public void A_partial_write_into_a_lost_chunk_fails_as_corrupt_and_changes_nothing()
    {
        var (dev, a) = VolumeWithLostChunk();
        using var _ = dev;
        using (var fs = FlashFileSystem.Mount(dev))
        {
            using var file = fs.Open("/a");
            file.Seek(fs.ChunkSize + 10, SeekOrigin.Begin);
            Assert.Throws<FlashDataCorruptException>(() =>
            {
                file.Write(new byte[5]);
                file.Flush();
            });
        }

        using var again = FlashFileSystem.Mount(dev);
        Assert.Throws<FlashDataCorruptException>(() => again.ReadAllBytes("/a"));
        Assert.Equal(a.AsSpan(0, again.ChunkSize).ToArray(), ReadRange(again, "/a", 0, again.ChunkSize));
    }

    [Fact]
    public void Writing_the_whole_lost_chunk_makes_the_file_whole_and_the_mark_goes_at_the_next_checkpoint()
    {
        var (dev, a) = VolumeWithLostChunk();
        using var _ = dev;
        int chunk;
        using (var fs = FlashFileSystem.Mount(dev))
        {
            chunk = fs.ChunkSize;
            var fresh = FfsTestDevice.Pattern(chunk, 7);
            fresh.CopyTo(a, chunk);
            using (var file = fs.Open("/a"))
            {
                file.Seek(chunk, SeekOrigin.Begin);
                file.Write(fresh);
            }

            Assert.Equal(a, fs.ReadAllBytes("/a"));
        }

        Assert.True(Entry(dev, "a").Lost.IsDefaultOrEmpty);
        using var again = FlashFileSystem.Mount(dev);
        Assert.Equal(a, again.ReadAllBytes("/a"));
        Assert.True(again.Check().IsClean);
    }

    [Fact]
    public void A_truncation_below_a_lost_chunk_forgets_it_so_a_later_extension_reads_zeros()
    {
        var (dev, a) = VolumeWithLostChunk();
        using var _ = dev;
        int chunk;
        using (var fs = FlashFileSystem.Mount(dev))
        {
            chunk = fs.ChunkSize;
            using var file = fs.Open("/a");
            file.SetLength(chunk);
            file.Flush();
            file.SetLength(3 * chunk);
        }

        var expected = new byte[3 * chunk];
        a.AsSpan(0, chunk).CopyTo(expected);
        using var again = FlashFileSystem.Mount(dev);
        Assert.Equal(expected, again.ReadAllBytes("/a"));
        Assert.True(Entry(dev, "a").Lost.IsDefaultOrEmpty);
    }

    [Fact]
    public void A_checkpoint_while_a_handle_that_truncated_below_a_lost_chunk_is_open_keeps_the_mark_across_a_power_cut()
    {
        // The handle forgets the mark when it truncates; a checkpoint taken before it commits records the file as
        // before the handle, so it must record the mark too, or the chunk would read as zeros after the cut.
        var (dev, a) = VolumeWithLostChunk();
        using var _ = dev;
        var fs = FlashFileSystem.Mount(dev);
        int chunk = fs.ChunkSize;
        var file = fs.Open("/a");
        file.SetLength(chunk);
        int before = fs.CheckpointsOverOpenTransactions;
        fs.Sync();
        Assert.Equal(before + 1, fs.CheckpointsOverOpenTransactions);
        Assert.Equal([1u], Entry(dev, "a").Lost.ToArray());

        // Power cut with the handle still open: its truncation never committed.
        using var image = new MemoryStream();
        dev.SaveImage(image);
        image.Position = 0;
        using var cut = FlashSimulator.LoadImage(image, new FlashSimulatorOptions { Geometry = s_geometry });
        using var again = FlashFileSystem.Mount(cut);
        Assert.Equal(a.Length, again.GetEntry("/a").Length);
        Assert.Throws<FlashDataCorruptException>(() => again.ReadAllBytes("/a"));
        Assert.Equal(a.AsSpan(0, chunk).ToArray(), ReadRange(again, "/a", 0, chunk));
        Assert.Equal(a.AsSpan(2 * chunk, chunk).ToArray(), ReadRange(again, "/a", 2 * chunk, chunk));
        GC.KeepAlive(file);
    }

    [Fact]
    public void A_whole_file_write_or_a_delete_forgets_the_lost_chunks()
    {
        var (dev, _) = VolumeWithLostChunk();
        using var _ = dev;
        var rewritten = FfsTestDevice.Pattern(5000, 9);
        using (var fs = FlashFileSystem.Mount(dev))
        {
            fs.WriteAllBytes("/a", rewritten);
        }

        Assert.True(Entry(dev, "a").Lost.IsDefaultOrEmpty);
        using (var fs = FlashFileSystem.Mount(dev))
        {
            Assert.Equal(rewritten, fs.ReadAllBytes("/a"));
            fs.Delete("/a");
        }

        using var again = FlashFileSystem.Mount(dev);
        Assert.False(again.Exists("/a"));
        Assert.True(again.Check().IsClean);
    }

    [Fact]
    public void Lost_inline_data_reads_as_corrupt_after_a_remount()
    {
        var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 6 });
        using var _ = dev;
        var small = FfsTestDevice.Pattern(100, 3);
        using (var fs = FfsTestDevice.FormatAndMount(dev))
        {
            fs.WriteAllBytes("/s", small);
            fs.WriteAllBytes("/t", FfsTestDevice.Pattern(100, 4));
        }

        int page = Entry(dev, "s").InlinePage;
        dev.InjectBitFlips(page, 64, sector: 0);
        using (var fs = FlashFileSystem.Mount(dev))
        {
            var report = fs.Check(repair: true);
            Assert.Contains(report.Problems, p => p.Path == "/s" && p.Repaired);
        }

        Assert.Equal([0u], Entry(dev, "s").Lost.ToArray());
        using (var fs = FlashFileSystem.Mount(dev))
        {
            Assert.Throws<FlashDataCorruptException>(() => fs.ReadAllBytes("/s"));
            fs.WriteAllBytes("/s", small);
        }

        using var again = FlashFileSystem.Mount(dev);
        Assert.Equal(small, again.ReadAllBytes("/s"));
    }

    [Fact]
    public void Lost_chunks_survive_the_periodic_incremental_checkpoints_and_a_power_cut()
    {
        var (dev, _) = VolumeWithLostChunk();
        using var _ = dev;
        var fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { CheckpointIntervalBlocks = 2 });
        for (int i = 0; i < 40; i++)
        {
            fs.WriteAllBytes($"/f{i % 5}", FfsTestDevice.Pattern(3 * fs.ChunkSize, i));
        }

        Assert.Throws<FlashDataCorruptException>(() => fs.ReadAllBytes("/a"));

        // No unmount: the next mount starts from the newest (incremental) checkpoint and replays the log after it.
        using var image = new MemoryStream();
        dev.SaveImage(image);
        image.Position = 0;
        using var cut = FlashSimulator.LoadImage(image, new FlashSimulatorOptions { Geometry = s_geometry });
        using var again = FlashFileSystem.Mount(cut);
        Assert.True(again.MountReport.Recovered);
        Assert.Throws<FlashDataCorruptException>(() => again.ReadAllBytes("/a"));
        Assert.Equal([1u], Entry(cut, "a").Lost.ToArray());
    }

    [Fact]
    public void A_checkpoint_listing_a_mapped_chunk_as_lost_is_refused_where_the_index_is_built()
    {
        CheckpointEntry[] entries =
        [
            new(FlashFileSystem.RootId, 0, true, [], 0, 1, -1, 0, default, []),
            new(7, FlashFileSystem.RootId, false, [.. "f"u8], 9000, 2, -1, 0, [new CheckpointExtent(0, 40, 3)], [1]),
        ];
        var error = Assert.Throws<FileSystemCorruptException>(() => Flash.Ffs.Recovery.CheckpointRestore.Index(new Flash.Ffs.Index.NodeTable(), new Flash.Ffs.Index.LostChunks(), [.. entries], FlashFileSystem.RootId));
        Assert.Contains("chunk 1 as lost and maps it", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A clean, unmounted volume whose /a (three chunks) lost chunk 1 to a repairing check; /b intact.</summary>
    private static (FlashSimulator Dev, byte[] A) VolumeWithLostChunk()
    {
        var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 5 });
        byte[] a;
        using (var fs = FfsTestDevice.FormatAndMount(dev))
        {
            a = FfsTestDevice.Pattern(3 * fs.ChunkSize, 1);
            fs.WriteAllBytes("/a", a);
            fs.WriteAllBytes("/b", FfsTestDevice.Pattern(3 * fs.ChunkSize, 2));
        }

        dev.InjectBitFlips(FfsTestDevice.CheckpointPageOf(dev, "a", 1), 64, sector: 0);
        using (var fs = FlashFileSystem.Mount(dev))
        {
            Assert.All(fs.Check(repair: true).Problems, p => Assert.True(p.Repaired, p.Message));
        }

        return (dev, a);
    }

    private static CheckpointEntry Entry(IFlashDevice dev, string name)
        => FlashFileSystem.ReadCheckpointImage(dev).Entries.Single(e => Encoding.UTF8.GetString(e.Name.AsSpan()) == name);

    private static byte[] ReadRange(FlashFileSystem fs, string path, long offset, int length)
    {
        using var file = fs.OpenRead(path);
        file.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[length];
        int done = 0;
        while (done < length)
        {
            int n = file.Read(buffer.AsSpan(done));
            Assert.True(n > 0);
            done += n;
        }

        return buffer;
    }
}

using System.Buffers.Binary;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>
/// The minimal cases of damaged flash (issue 16): a read returns the bytes written or a corruption error, recovery
/// never applies a change it has not read whole, the library never programs a page that is not erased, and never
/// writes a state its own mount cannot find.
/// </summary>
public class DamagedFlashTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 64, 24);

    /// <summary>One page's tag as the image holds it.</summary>
    private readonly record struct ImageTag(int Page, int Kind, bool Commit, ulong Sequence, uint ObjectId, uint Chunk, uint Txn);

    private static int Raw => s_geometry.PageSize + s_geometry.SpareSize;

    private static int TagOffset => s_geometry.PageSize + s_geometry.SpareFreeOffset;

    private static List<ImageTag> Tags(byte[] image, FlashGeometry? geometry = null)
    {
        var g = geometry ?? s_geometry;
        int raw = g.PageSize + g.SpareSize;
        var tags = new List<ImageTag>();
        for (int p = 0; p < g.PageCount; p++)
        {
            var t = image.AsSpan((p * raw) + g.PageSize + g.SpareFreeOffset, 32);
            if (t[0] is 0xF1 or 0xF2)
            {
                tags.Add(new ImageTag(p, t[1] & 0x0F, (t[1] & 0x10) != 0, BinaryPrimitives.ReadUInt64LittleEndian(t[4..]) & 0xFFFF_FFFF_FFFF,
                    BinaryPrimitives.ReadUInt32LittleEndian(t[12..]), BinaryPrimitives.ReadUInt32LittleEndian(t[16..]), BinaryPrimitives.ReadUInt32LittleEndian(t[20..])));
            }
        }

        return tags;
    }

    private static byte[] Save(FlashSimulator dev)
    {
        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        return ms.ToArray();
    }

    private static FlashSimulator Load(byte[] image, FlashGeometry? geometry = null) => FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = geometry ?? s_geometry });

    private static (FlashSimulator Dev, FlashFileSystem Fs) Fresh()
    {
        var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 3 });
        return (dev, FfsTestDevice.FormatAndMount(dev));
    }

    /// <summary>Reads <paramref name="path"/>: its content, null when it does not exist, or "corrupt".</summary>
    private static object? ReadOrError(FlashFileSystem fs, string path)
    {
        if (!fs.Exists(path))
        {
            return null;
        }

        try
        {
            return fs.ReadAllBytes(path);
        }
        catch (FlashDataCorruptException)
        {
            return "corrupt";
        }
    }

    /// <param name="logPageBefore">
    /// Whether a file is written between the checkpoint and /big, so the damaged page is a log page in the block /big
    /// starts in (the transaction continues into the next block); otherwise it is the checkpoint's anchor page.
    /// </param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Replay_stops_at_a_damaged_tag_instead_of_applying_a_transaction_without_it(bool logPageBefore)
    {
        var (dev, fs) = Fresh();
        var pad = FfsTestDevice.Pattern(5000, 1);
        var pad2 = FfsTestDevice.Pattern(3000, 3);
        var big = FfsTestDevice.Pattern(160 * 1024, 2);
        fs.WriteAllBytes("/pad", pad);
        fs.Sync();
        if (logPageBefore)
        {
            fs.WriteAllBytes("/pad2", pad2);
        }

        fs.WriteAllBytes("/big", big);
        var image = Save(dev);
        dev.Dispose();

        // /big is the file with the most chunks; damage the tag CRC of the page programmed just before its first.
        var tags = Tags(image);
        uint bigId = tags.Where(t => t.Kind == 1).GroupBy(t => t.ObjectId).MaxBy(g => g.Count())!.Key;
        ulong first = tags.Where(t => t.Kind == 1 && t.ObjectId == bigId).Min(t => t.Sequence);
        var before = tags.Single(t => t.Sequence == first - 1);
        Assert.Equal(logPageBefore ? 2 : 4, before.Kind);
        image[(before.Page * Raw) + TagOffset + 29] ^= 0x04;

        using var damaged = Load(image);
        var mounted = FlashFileSystem.Mount(damaged);
        Assert.Equal(pad, mounted.ReadAllBytes("/pad"));
        Assert.True(ReadOrError(mounted, "/pad2") is null || ((byte[])ReadOrError(mounted, "/pad2")!).AsSpan().SequenceEqual(pad2));
        var read = ReadOrError(mounted, "/big");
        Assert.True(read is null or "corrupt" || ((byte[])read).AsSpan().SequenceEqual(big), "/big must read its content, fail, or be missing");
        if (read is null)
        {
            Assert.NotEmpty(mounted.MountReport.Dropped);
            Assert.Contains(mounted.Check().Problems, p => p.Kind == FsckProblemKind.DroppedChanges);
        }

        // The volume stays usable: write, unmount, mount again.
        mounted.WriteAllBytes("/after", pad);
        mounted.Unmount();
        var again = FlashFileSystem.Mount(damaged);
        Assert.Equal(pad, again.ReadAllBytes("/after"));
        Assert.Equal(pad, again.ReadAllBytes("/pad"));
    }

    [Fact]
    public void A_damaged_commit_page_never_makes_a_file_read_another_files_bytes()
    {
        var (dev, fs) = Fresh();
        var history = new Dictionary<string, List<byte[]>>();
        void Wrote(string path, byte[] data) => (history.TryGetValue(path, out var l) ? l : history[path] = []).Add(data);
        fs.WriteAllBytes("/x", FfsTestDevice.Pattern(300, 5));
        Wrote("/x", FfsTestDevice.Pattern(300, 5));
        fs.Sync();
        for (int i = 0; i < 6; i++)
        {
            var a = FfsTestDevice.Pattern(100 + i, 10 + i);
            var b = FfsTestDevice.Pattern(3000 + i, 20 + i);
            using (var t = fs.BeginTransaction())
            {
                t.WriteAllBytes("/a", a).WriteAllBytes("/b", b).Commit();
            }

            Wrote("/a", a);
            Wrote("/b", b);
        }

        var image = Save(dev);
        dev.Dispose();
        foreach (var commit in Tags(image).Where(t => t.Commit && t.Kind == 2))
        {
            for (int bit = 0; bit < 64; bit += 7)
            {
                var copy = (byte[])image.Clone();
                copy[(commit.Page * Raw) + (bit * 3)] ^= (byte)(1 << (bit % 8));
                using var damaged = Load(copy);
                var mounted = FlashFileSystem.Mount(damaged, new FlashFileSystemOptions { ReadOnly = true });
                foreach (var path in new[] { "/x", "/a", "/b" })
                {
                    if (ReadOrError(mounted, path) is byte[] data)
                    {
                        Assert.Contains(history[path], h => h.AsSpan().SequenceEqual(data));
                    }
                }
            }
        }
    }

    [Fact]
    public void Swapped_anchor_blocks_refuse_a_read_write_mount_and_still_read()
    {
        var (dev, fs) = Fresh();
        var data = FfsTestDevice.Pattern(9000, 7);
        fs.WriteAllBytes("/keep", data);
        fs.Unmount();
        var image = Save(dev);
        dev.Dispose();
        int blockBytes = Raw * s_geometry.PagesPerBlock;
        var tmp = image.AsSpan(0, blockBytes).ToArray();
        image.AsSpan(3 * blockBytes, blockBytes).CopyTo(image.AsSpan(0));
        tmp.CopyTo(image.AsSpan(3 * blockBytes));

        using var damaged = Load(image);
        var ex = Assert.Throws<FileSystemCorruptException>(() => FlashFileSystem.Mount(damaged));
        Assert.Contains("read-only", ex.Message);
        var ro = FlashFileSystem.Mount(damaged, new FlashFileSystemOptions { ReadOnly = true });
        Assert.True(ReadOrError(ro, "/keep") is "corrupt" || ((byte[])ReadOrError(ro, "/keep")!).AsSpan().SequenceEqual(data));
        ro.Unmount();
    }

    [Fact]
    public void Pages_whose_tag_reads_erased_but_data_does_not_are_never_programmed_again()
    {
        var (dev, fs) = Fresh();
        var first = FfsTestDevice.Pattern(6000, 8);
        fs.WriteAllBytes("/one", first);
        fs.Sync();
        fs.WriteAllBytes("/two", FfsTestDevice.Pattern(7000, 9));
        var image = Save(dev);
        dev.Dispose();

        // Erase the spare areas of everything written after the checkpoint: the data areas stay programmed.
        foreach (var t in Tags(image).Where(t => t.Kind is 1 or 2).OrderByDescending(t => t.Sequence).Take(4))
        {
            image.AsSpan((t.Page * Raw) + s_geometry.PageSize, s_geometry.SpareSize).Fill(0xFF);
        }

        using var damaged = Load(image);
        var mounted = FlashFileSystem.Mount(damaged);
        Assert.Equal(first, mounted.ReadAllBytes("/one"));
        var probe = FfsTestDevice.Pattern(5000, 10);
        mounted.WriteAllBytes("/probe", probe);
        mounted.Unmount();
        var again = FlashFileSystem.Mount(damaged);
        Assert.Equal(probe, again.ReadAllBytes("/probe"));
        Assert.Equal(first, again.ReadAllBytes("/one"));
    }

    [Fact]
    public void An_older_copy_of_a_block_is_a_stale_page_for_reads_and_check_and_repair_drops_it()
    {
        // 16 chunks a version, 16 pages a block: a version fills about one block, so a reused block can hold an older
        // version of the same chunks at the same places.
        var g = new FlashGeometry(2048, 64, 16, 24);
        int raw = g.PageSize + g.SpareSize, blockBytes = raw * g.PagesPerBlock;
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = g, Seed = 4 });
        var fs = FfsTestDevice.FormatAndMount(dev);
        var images = new List<byte[]>();
        var tagsOf = new List<List<ImageTag>>();
        var last = Array.Empty<byte>();

        // A block of the current version that an older image held the same chunks in, at the same pages. Whether and
        // where the workload produces one depends on the order garbage collection reclaims blocks in, so versions are
        // written until one exists (at least 40).
        (int Block, byte[]? Older, uint Id) FindReuse(byte[] now)
        {
            var tags = Tags(now, g);
            var data = tags.Where(t => t.Kind == 1).ToList();
            if (data.Count == 0)
            {
                return (-1, null, 0);
            }

            uint id = data.GroupBy(t => t.ObjectId).Single().Key;
            var current = data.GroupBy(t => t.Chunk).Select(c => c.MaxBy(t => t.Sequence)!).ToList();
            foreach (int b in current.Select(c => c.Page / g.PagesPerBlock).Distinct())
            {
                for (int i = 0; i < tagsOf.Count; i++)
                {
                    if (tagsOf[i].Any(t => t.Page / g.PagesPerBlock == b && t.Kind == 1 && t.ObjectId == id
                        && current.Any(c => c.Page == t.Page && c.Chunk == t.Chunk && c.Sequence > t.Sequence)))
                    {
                        return (b, images[i], id);
                    }
                }
            }

            return (-1, null, id);
        }

        for (int i = 0; i < 200; i++)
        {
            last = FfsTestDevice.Pattern(2048 * 16, 12 + i);
            fs.WriteAllBytes("/f", last);
            var now = Save(dev);
            if (i >= 39 && FindReuse(now).Older is not null)
            {
                break;
            }

            images.Add(now);
            tagsOf.Add(Tags(now, g));
        }

        fs.Unmount();
        var image = Save(dev);
        var (block, older, _) = FindReuse(image);
        Assert.True(older is not null, "the workload reuses a block for the same chunks");
        older.AsSpan(block * blockBytes, blockBytes).CopyTo(image.AsSpan(block * blockBytes));

        using var damaged = Load(image, g);
        var mounted = FlashFileSystem.Mount(damaged);
        Assert.Equal("corrupt", ReadOrError(mounted, "/f"));
        var report = mounted.Check();
        Assert.Contains(report.Problems, p => p.Kind == FsckProblemKind.StalePage);
        var repaired = mounted.Check(repair: true);
        Assert.All(repaired.Problems, p => Assert.True(p.Repaired, p.Message));
        Assert.True(mounted.Check().IsClean);
        Assert.Throws<FlashDataCorruptException>(() => mounted.ReadAllBytes("/f"));
        mounted.WriteAllBytes("/f", last);
        mounted.Unmount();
        var again = FlashFileSystem.Mount(damaged);
        Assert.Equal(last, again.ReadAllBytes("/f"));
        Assert.True(again.Check().IsClean);
    }
}

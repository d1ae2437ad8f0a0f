using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Format;

namespace Flash.Tests.Ffs.Check;

/// <summary>
/// <c>Check(repair: true)</c> through the facade on flash damaged after a clean unmount: an unreadable page, a stale
/// page (this file's chunk, from an earlier erase cycle of its block) and a misplaced page (another file's page where
/// the index expects this one's) are each reported by kind; the repair drops the mappings, the files read as corrupt
/// there (never another file's bytes), and the next mount and check are clean, with the dropped range still reading
/// as corrupt (the checkpoint records it). A page mapped twice cannot be made by damaging flash alone and is
/// <see cref="VolumeCheckerTests"/>'s case.
/// </summary>
public class CheckRepairTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 16, 32);

    private static int Raw => s_geometry.PageSize + s_geometry.SpareSize;

    [Fact]
    public void An_unreadable_page_is_reported_and_repair_leaves_a_volume_whose_next_mount_and_check_are_clean()
    {
        var (device, _, b) = Volume();
        using var dev = device;
        int page = FfsTestDevice.CheckpointPageOf(dev, "a", 1);
        dev.InjectBitFlips(page, 64, sector: 0);

        var fs = MountAndFind(dev, page, FsckProblemKind.UncorrectablePage);

        AssertRepairedAndCleanAfterRemount(dev, fs, b, "/a");
    }

    [Fact]
    public void A_misplaced_page_is_a_tag_mismatch_and_repair_never_serves_the_other_files_bytes()
    {
        var (dev, _, _) = Volume();
        int pageA = FfsTestDevice.CheckpointPageOf(dev, "a", 0), pageB = FfsTestDevice.CheckpointPageOf(dev, "b", 0);
        var image = Save(dev);
        dev.Dispose();

        // /b's first page (data and tag) where /a's was, as a block copied to the wrong place leaves it.
        image.AsSpan(pageB * Raw, Raw).CopyTo(image.AsSpan(pageA * Raw));
        using var damaged = FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = s_geometry });
        var fs = MountAndFind(damaged, pageA, FsckProblemKind.TagMismatch);

        // /b's own page is intact and mapped once: only /a's mapping is wrong.
        var b = fs.ReadAllBytes("/b");
        AssertRepairedAndCleanAfterRemount(damaged, fs, b, "/a");
    }

    [Fact]
    public void A_stale_page_is_reported_and_repair_leaves_a_volume_whose_next_mount_and_check_are_clean()
    {
        var (device, _, _) = Volume();
        int page = FfsTestDevice.CheckpointPageOf(device, "a", 2);
        ulong floor = FlashFileSystem.ReadCheckpointImage(device).Blocks[page / s_geometry.PagesPerBlock].FirstSequence + (ulong)(page % s_geometry.PagesPerBlock);
        var image = Save(device);
        device.Dispose();

        // /a's chunk 2 with an intact tag of an earlier erase cycle of its block (as an older copy of the block
        // written back leaves it): the right file and chunk, a sequence number below the block's first.
        var spare = image.AsSpan((page * Raw) + s_geometry.PageSize + s_geometry.SpareFreeOffset, PageTag.Size);
        Assert.True(PageTag.TryRead(spare, out var tag));
        Assert.True(floor > 0 && tag.Sequence >= floor);
        tag.Sequence = floor - 1;
        tag.Write(spare);
        using var damaged = FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = s_geometry });
        var fs = MountAndFind(damaged, page, FsckProblemKind.StalePage);
        Assert.Throws<FlashDataCorruptException>(() => fs.ReadAllBytes("/a"));

        var b = fs.ReadAllBytes("/b");
        AssertRepairedAndCleanAfterRemount(damaged, fs, b, "/a");
    }

    /// <summary>Mounts <paramref name="dev"/> and asserts that a check reports <paramref name="page"/> of /a once, as <paramref name="kind"/>, unrepaired.</summary>
    private static FlashFileSystem MountAndFind(FlashSimulator dev, int page, FsckProblemKind kind)
    {
        var fs = FlashFileSystem.Mount(dev);
        var problem = Assert.Single(fs.Check().Problems, p => p.Page == page);
        Assert.Equal(kind, problem.Kind);
        Assert.Equal("/a", problem.Path);
        Assert.False(problem.Repaired);
        return fs;
    }

    /// <summary>
    /// Repairs <paramref name="fs"/>: every problem repaired, the check after it clean, <paramref name="lost"/> reads
    /// as corrupt, /b reads <paramref name="b"/>; and so again after a remount, where a rewrite of the lost file works.
    /// </summary>
    private static void AssertRepairedAndCleanAfterRemount(FlashSimulator dev, FlashFileSystem fs, byte[] b, string lost)
    {
        var repaired = fs.Check(repair: true);
        Assert.NotEmpty(repaired.Problems);
        Assert.All(repaired.Problems, p => Assert.True(p.Repaired, p.Message));
        Assert.True(fs.Check().IsClean);
        Assert.Throws<FlashDataCorruptException>(() => fs.ReadAllBytes(lost));
        Assert.Equal(b, fs.ReadAllBytes("/b"));
        fs.Unmount();

        var again = FlashFileSystem.Mount(dev);
        Assert.False(again.MountReport.Recovered);
        Assert.True(again.Check().IsClean, again.Check().ToString());
        Assert.Equal(b, again.ReadAllBytes("/b"));

        // The checkpoint (version 3) records the chunk the repair dropped: after a remount it still reads as corrupt,
        // never as a hole of zeros.
        Assert.Throws<FlashDataCorruptException>(() => again.ReadAllBytes(lost));
        var rewritten = FfsTestDevice.Pattern(5000, 9);
        again.WriteAllBytes(lost, rewritten);
        again.Unmount();
        var third = FlashFileSystem.Mount(dev);
        Assert.Equal(rewritten, third.ReadAllBytes(lost));
        Assert.True(third.Check().IsClean);
        third.Unmount();
    }

    /// <summary>A clean, unmounted volume with /a and /b of three chunks each.</summary>
    private static (FlashSimulator Dev, byte[] A, byte[] B) Volume()
    {
        var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 5 });
        var fs = FfsTestDevice.FormatAndMount(dev);
        var a = FfsTestDevice.Pattern(3 * fs.ChunkSize, 1);
        var b = FfsTestDevice.Pattern(3 * fs.ChunkSize, 2);
        fs.WriteAllBytes("/a", a);
        fs.WriteAllBytes("/b", b);
        fs.Unmount();
        return (dev, a, b);
    }

    private static byte[] Save(FlashSimulator dev)
    {
        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        return ms.ToArray();
    }
}

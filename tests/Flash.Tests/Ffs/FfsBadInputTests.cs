using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>Bad input: each gives a specific exception and leaves stored data (the device image) unchanged.</summary>
public class FfsBadInputTests
{
    private static byte[] Image(FlashSimulator dev)
    {
        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        return ms.ToArray();
    }

    private static FlashSimulator Load(byte[] image, FlashGeometry geometry)
        => FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = geometry, Seed = 3 });

    private static (FlashSimulator Dev, byte[] Image) Populated()
    {
        var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.CreateDirectory("/etc");
        fs.WriteAllBytes("/etc/a", FfsTestDevice.Pattern(300, 1));
        fs.WriteAllBytes("/b", FfsTestDevice.Pattern(20_000, 2));
        fs.Unmount();
        return (dev, Image(dev));
    }

    [Fact]
    public void Garbage_anchor_blocks_give_FileSystemCorruptException_and_change_nothing()
    {
        var (dev, image) = Populated();
        dev.Dispose();
        var g = FfsTestDevice.Small;
        int stride = g.PageSize + g.SpareSize;
        var bad = (byte[])image.Clone();
        var rng = new Random(9);
        var garbage = new byte[2 * g.PagesPerBlock * stride];
        rng.NextBytes(garbage);
        garbage.CopyTo(bad, 0); // anchor blocks are the first two good blocks
        using var sim = Load(bad, g);
        Assert.Throws<FileSystemCorruptException>(() => FlashFileSystem.Mount(sim));
        Assert.Equal(bad, Image(sim));
    }

    [Fact]
    public void Erased_or_garbage_checkpoint_gives_FileSystemCorruptException()
    {
        var (dev, image) = Populated();
        dev.Dispose();
        var g = FfsTestDevice.Small;
        int stride = g.PageSize + g.SpareSize;

        // The newest anchor page is the last programmed page with the magic in the anchor blocks; its block list starts
        // at byte 96, and the checkpoint starts at the first page of the first block.
        int anchor = -1;
        for (int p = 0; p < 2 * g.PagesPerBlock; p++)
        {
            if (image.AsSpan(p * stride, 8).SequenceEqual("FLASHFS\0"u8))
            {
                anchor = p;
            }
        }

        Assert.True(anchor >= 0);
        int checkpointPage = BitConverter.ToInt32(image, (anchor * stride) + 96) * g.PagesPerBlock;
        foreach (byte fill in new byte[] { 0xFF, 0x00, 0x5A })
        {
            var bad = (byte[])image.Clone();
            bad.AsSpan(checkpointPage * stride, g.PageSize).Fill(fill);
            using var sim = Load(bad, g);
            Assert.Throws<FileSystemCorruptException>(() => FlashFileSystem.Mount(sim));
            Assert.Equal(bad, Image(sim));
        }
    }

    [Fact]
    public void An_image_of_another_geometry_is_refused()
    {
        var (dev, image) = Populated();
        dev.Dispose();

        // Same bytes, same pages, other block layout: the anchor is found and its geometry does not match.
        using (var sim = Load(image, new FlashGeometry(2048, 64, 32, 32)))
        {
            Assert.Throws<GeometryMismatchException>(() => FlashFileSystem.Mount(sim));
            Assert.Equal(image, Image(sim));
        }

        // Same bytes, other page size: no valid volume can be read.
        using (var sim = Load(image, new FlashGeometry(1024, 32, 16, 128, spareFreeLength: 30)))
        {
            var ex = Assert.ThrowsAny<FlashFileSystemException>(() => FlashFileSystem.Mount(sim));
            Assert.True(ex is GeometryMismatchException or FileSystemCorruptException, ex.GetType().Name);
            Assert.Equal(image, Image(sim));
        }
    }

    [Fact]
    public void A_blank_device_is_not_a_volume()
    {
        using var dev = FfsTestDevice.Create();
        Assert.Throws<FileSystemCorruptException>(() => FlashFileSystem.Mount(dev));
    }

    public static TheoryData<string> InvalidPaths =>
    [
        "relative", "", "a/b", "/" + new string('n', 256), "/" + string.Concat(Enumerable.Repeat("\u00e9", 128)),
        "/a\\b", "/nul\0x", "/.", "/..", "/etc/../b", "/etc/./a",
    ];

    [Theory]
    [MemberData(nameof(InvalidPaths))]
    public void Invalid_paths_throw_FlashInvalidPathException_and_write_nothing(string path)
    {
        var (dev, image) = Populated();
        using (dev)
        {
            var fs = FlashFileSystem.Mount(dev);
            var before = Image(dev);
            Assert.Throws<FlashInvalidPathException>(() => fs.CreateDirectory(path));
            Assert.Throws<FlashInvalidPathException>(() => fs.WriteAllBytes(path, [1, 2, 3]));
            Assert.Throws<FlashInvalidPathException>(() => fs.Open(path, FlashFileMode.Create));
            Assert.Throws<FlashInvalidPathException>(() => fs.Rename("/b", path));
            Assert.Throws<FlashInvalidPathException>(() => fs.ReadAllBytes(path));
            Assert.Throws<FlashInvalidPathException>(() => fs.Delete(path));
            Assert.Throws<FlashInvalidPathException>(() => fs.BeginTransaction().WriteAllBytes("/ok", [1]).CreateDirectory(path).Commit());
            Assert.Equal(before, Image(dev));
            Assert.True(fs.IsMounted);
            Assert.False(fs.Exists("/ok"));
            Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        }
    }

    [Fact]
    public void A_name_of_255_utf8_bytes_is_fine()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        string name = "/" + new string('x', 1) + string.Concat(Enumerable.Repeat("\u00e9", 127));
        fs.WriteAllBytes(name, [7]);
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal([7], fs.ReadAllBytes(name));
    }

    [Fact]
    public void Missing_existing_and_wrong_kind_paths_throw_specific_exceptions_and_write_nothing()
    {
        var (dev, _) = Populated();
        using (dev)
        {
            var fs = FlashFileSystem.Mount(dev);
            var before = Image(dev);
            Assert.Throws<FlashPathNotFoundException>(() => fs.ReadAllBytes("/nope"));
            Assert.Throws<FlashPathNotFoundException>(() => fs.Delete("/nope"));
            Assert.Throws<FlashPathNotFoundException>(() => fs.Open("/nope"));
            Assert.Throws<FlashPathNotFoundException>(() => fs.Rename("/nope", "/x"));
            Assert.Throws<FlashPathNotFoundException>(() => fs.CreateDirectory("/no/dir"));
            Assert.Throws<FlashPathNotFoundException>(() => fs.WriteAllBytes("/no/file", [1]));
            Assert.Throws<FlashPathNotFoundException>(() => fs.ListDirectory("/nope"));
            Assert.Throws<FlashPathExistsException>(() => fs.CreateDirectory("/etc"));
            Assert.Throws<FlashPathExistsException>(() => fs.CreateDirectory("/b"));
            Assert.Throws<FlashPathExistsException>(() => fs.Open("/b", FlashFileMode.CreateNew));
            Assert.Throws<FlashPathExistsException>(() => fs.Rename("/etc/a", "/b", replace: false));
            Assert.Throws<FlashEntryKindException>(() => fs.DeleteDirectory("/etc"));
            Assert.Throws<FlashEntryKindException>(() => fs.Delete("/etc"));
            Assert.Throws<FlashEntryKindException>(() => fs.DeleteDirectory("/b"));
            Assert.Throws<FlashEntryKindException>(() => fs.ReadAllBytes("/etc"));
            Assert.Throws<FlashEntryKindException>(() => fs.WriteAllBytes("/etc", [1]));
            Assert.Throws<FlashEntryKindException>(() => fs.ListDirectory("/b"));
            Assert.Throws<FlashEntryKindException>(() => fs.WriteAllBytes("/b/x", [1]));
            using (fs.Open("/b"))
            {
                Assert.Throws<FlashEntryKindException>(() => fs.Delete("/b"));
            }

            Assert.True(fs.IsMounted);
            fs.Unmount();
            fs = FlashFileSystem.Mount(dev);
            Assert.Equal(FfsTestDevice.Pattern(300, 1), fs.ReadAllBytes("/etc/a"));
            Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        }
    }

    [Fact]
    public void Writing_past_capacity_throws_FlashNoSpaceException_keeps_data_and_stays_usable()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var model = new Dictionary<string, byte[]>();
        Assert.Throws<FlashNoSpaceException>(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                var data = FfsTestDevice.Pattern(50_000, i);
                fs.WriteAllBytes("/f" + i, data);
                model["/f" + i] = data;
            }
        });
        Assert.True(fs.IsMounted);
        Assert.True(model.Count > 10);
        foreach (var (p, d) in model)
        {
            Assert.Equal(d, fs.ReadAllBytes(p));
        }

        // A handle write past capacity fails too; what was stored stays.
        using (var f = fs.Open("/big", FlashFileMode.Create))
        {
            Assert.Throws<FlashNoSpaceException>(() =>
            {
                for (int i = 0; i < 1000; i++)
                {
                    f.Write(FfsTestDevice.Pattern(8192, i));
                }
            });
        }

        fs.Delete("/big");
        fs.Delete("/f0");
        fs.Delete("/f1");
        model.Remove("/f0");
        model.Remove("/f1");
        fs.WriteAllBytes("/again", FfsTestDevice.Pattern(50_000, 77));
        model["/again"] = FfsTestDevice.Pattern(50_000, 77);
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        foreach (var (p, d) in model)
        {
            Assert.Equal(d, fs.ReadAllBytes(p));
        }

        Assert.True(fs.Check().IsClean);
    }

    [Fact]
    public void Use_after_unmount_throws_FlashUnmountedException()
    {
        var (dev, _) = Populated();
        using (dev)
        {
            var fs = FlashFileSystem.Mount(dev);
            var file = fs.OpenRead("/b");
            var txn = fs.BeginTransaction().WriteAllBytes("/late", [1]);
            fs.Unmount();
            Assert.Throws<FlashUnmountedException>(() => fs.ReadAllBytes("/b"));
            Assert.Throws<FlashUnmountedException>(() => fs.WriteAllBytes("/b", [1]));
            Assert.Throws<FlashUnmountedException>(() => fs.ListDirectory("/"));
            Assert.Throws<FlashUnmountedException>(() => fs.CreateDirectory("/x"));
            Assert.Throws<FlashUnmountedException>(() => fs.BeginTransaction());
            Assert.Throws<FlashUnmountedException>(() => fs.GetStatistics());
            Assert.Throws<FlashUnmountedException>(() => txn.Commit());
            Assert.ThrowsAny<ObjectDisposedException>(() => file.Read(new byte[10]));
            fs = FlashFileSystem.Mount(dev);
            Assert.False(fs.Exists("/late"));
        }
    }

    [Fact]
    public void A_read_only_mount_refuses_every_change_and_writes_nothing()
    {
        var (dev, image) = Populated();
        using (dev)
        {
            var fs = FlashFileSystem.Mount(dev, new FlashFileSystemOptions { ReadOnly = true });
            Assert.Throws<FlashReadOnlyException>(() => fs.WriteAllBytes("/b", [1]));
            Assert.Throws<FlashReadOnlyException>(() => fs.CreateDirectory("/x"));
            Assert.Throws<FlashReadOnlyException>(() => fs.Delete("/b"));
            Assert.Throws<FlashReadOnlyException>(() => fs.DeleteDirectory("/etc"));
            Assert.Throws<FlashReadOnlyException>(() => fs.Rename("/b", "/c"));
            Assert.Throws<FlashReadOnlyException>(() => fs.Open("/new", FlashFileMode.Create));
            Assert.Throws<FlashReadOnlyException>(() => fs.BeginTransaction());
            Assert.Throws<FlashReadOnlyException>(() => fs.Sync());
            using (var f = fs.Open("/b"))
            {
                Assert.False(f.CanWrite);
                Assert.Throws<NotSupportedException>(() => f.Write([1]));
                var buf = new byte[100];
                Assert.Equal(100, f.Read(buf));
            }

            Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
            fs.Unmount();
            Assert.Equal(image, Image(dev));
        }
    }

    [Fact]
    public void A_transaction_invalid_part_way_applies_nothing()
    {
        var (dev, _) = Populated();
        using (dev)
        {
            var fs = FlashFileSystem.Mount(dev);
            var before = Image(dev);
            using (var txn = fs.BeginTransaction())
            {
                txn.WriteAllBytes("/new", FfsTestDevice.Pattern(5000, 5)).Delete("/missing").CreateDirectory("/d");
                Assert.Throws<FlashPathNotFoundException>(() => txn.Commit());
            }

            using (var txn = fs.BeginTransaction())
            {
                txn.Delete("/b").DeleteDirectory("/etc");
                Assert.Throws<FlashEntryKindException>(() => txn.Commit());
            }

            Assert.Equal(before, Image(dev));
            Assert.False(fs.Exists("/new"));
            Assert.True(fs.Exists("/b"));
            fs.Unmount();
            fs = FlashFileSystem.Mount(dev);
            Assert.False(fs.Exists("/new"));
            Assert.False(fs.Exists("/d"));
            Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        }
    }

    [Fact]
    public void A_transaction_is_atomic_across_power_cuts()
    {
        var (dev, _) = Populated();
        using (dev)
        {
            var fs = FlashFileSystem.Mount(dev);

            // Cut before Commit: nothing of the batch.
            var txn = fs.BeginTransaction().WriteAllBytes("/t1", FfsTestDevice.Pattern(9000, 1)).Delete("/b");
            dev.CutPower();
            Assert.ThrowsAny<Exception>(() => txn.Commit());
            dev.PowerUp();
            fs = FlashFileSystem.Mount(dev);
            Assert.False(fs.Exists("/t1"));
            Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));

            // Cut at every mutation of a commit: all or nothing.
            var snapshot = dev.Snapshot();
            fs.Unmount();
            for (long cut = 1; cut < 40; cut++)
            {
                using var sim = FlashSimulator.FromSnapshot(snapshot);
                var f = FlashFileSystem.Mount(sim);
                sim.CutPowerAfter(cut);
                bool committed;
                try
                {
                    f.BeginTransaction().WriteAllBytes("/t2", FfsTestDevice.Pattern(9000, 2)).Delete("/b").Rename("/etc/a", "/etc/z").Commit();
                    committed = true;
                    sim.CancelPowerCut();
                    sim.CutPower();
                }
                catch (PowerLossException)
                {
                    committed = false;
                }

                sim.PowerUp();
                f = FlashFileSystem.Mount(sim);
                bool applied = f.Exists("/t2");
                Assert.Equal(applied, !f.Exists("/b"));
                Assert.Equal(applied, f.Exists("/etc/z"));
                Assert.NotEqual(applied, f.Exists("/etc/a"));
                if (committed)
                {
                    Assert.True(applied);
                }

                Assert.Equal(applied ? FfsTestDevice.Pattern(9000, 2) : FfsTestDevice.Pattern(20_000, 2), f.ReadAllBytes(applied ? "/t2" : "/b"));
                Assert.True(f.Check().IsClean);
                if (committed)
                {
                    break;
                }
            }
        }
    }
}

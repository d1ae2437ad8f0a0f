using Flash.Drivers;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>Focused reproductions of bugs the model-based test found (fixed ones guard against regressions).</summary>
public class FfsRegressionTests
{
    [Fact]
    public void A_failed_validation_after_a_successful_change_does_not_fault_the_volume()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.CreateDirectory("/a");
        Assert.Throws<FlashInvalidPathException>(() => fs.CreateDirectory("/"));
        Assert.Throws<FlashPathNotFoundException>(() => fs.Delete("/missing"));
        Assert.True(fs.IsMounted);
        fs.CreateDirectory("/a/b");
        Assert.Single(fs.ListDirectory("/a"));
    }

    [Fact]
    public void A_transaction_writing_one_file_inline_then_chunked_reads_back_the_last_content()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var last = FfsTestDevice.Pattern(4890, 2);
        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAllBytes("/d", FfsTestDevice.Pattern(127, 1)).WriteAllBytes("/d", last).Commit();
        }

        Assert.Equal(last, fs.ReadAllBytes("/d"));
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(last, fs.ReadAllBytes("/d"));
    }

    [Fact]
    public void A_transaction_writing_one_file_inline_then_chunked_survives_a_power_cut()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var last = FfsTestDevice.Pattern(4890, 2);
        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAllBytes("/d", FfsTestDevice.Pattern(127, 1)).WriteAllBytes("/d", last).Commit();
        }

        dev.CutPower();
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(last, fs.ReadAllBytes("/d"));
    }

    [Fact]
    public void A_transaction_writing_a_small_file_then_renaming_it_survives_replay()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var data = FfsTestDevice.Pattern(200, 3);
        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAllBytes("/a", data).Rename("/a", "/b").Commit();
        }

        dev.CutPower();
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev);
        Assert.False(fs.Exists("/a"));
        Assert.Equal(data, fs.ReadAllBytes("/b"));
        Assert.True(fs.Check().IsClean);
    }

    [Fact]
    public void Truncating_into_a_buffered_chunk_then_extending_reads_zeros()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        using (var f = fs.Open("/a", FlashFileMode.Append))
        {
            f.Position = 3010;
            f.Write([0x5A]);
            f.SetLength(2407);
        }

        using (var f = fs.Open("/a", FlashFileMode.OpenOrCreate))
        {
            f.Position = 11631;
            f.Write([0x77]);
        }

        var expected = new byte[11632];
        expected[11631] = 0x77;
        Assert.Equal(expected, fs.ReadAllBytes("/a"));
    }

    [Fact]
    public void Shrink_then_grow_in_one_handle_session_survives_a_power_cut()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        using (var f = fs.Open("/c", FlashFileMode.Create))
        {
            f.Position = 7654;
            f.Write([1]);
        }

        using (var f = fs.Open("/c", FlashFileMode.Create))
        {
            f.Position = 10373;
            f.Write([2]);
        }

        var expected = new byte[10374];
        expected[10373] = 2;
        Assert.Equal(expected, fs.ReadAllBytes("/c"));
        dev.CutPower();
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(expected, fs.ReadAllBytes("/c"));
    }

    [Fact]
    public async Task Maintain_without_limits_returns()
    {
        using var dev = FfsTestDevice.Create(seed: 31);
        var fs = FfsTestDevice.FormatAndMount(dev);
        var data = FfsTestDevice.Pattern(fs.ChunkSize * 4, 1);
        fs.WriteAllBytes("/good", data);
        fs.Unmount();
        var buf = new byte[dev.Geometry.PageSize];
        var spare = new byte[dev.Geometry.SpareSize];
        int page = Enumerable.Range(0, dev.Geometry.PageCount).First(p =>
        {
            dev.Read(p, buf, spare);
            return buf.AsSpan(0, 64).SequenceEqual(data.AsSpan(0, 64));
        });
        dev.InjectBitFlips(page, 3, sector: 0);
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(data, fs.ReadAllBytes("/good"));
        var work = Task.Run(() => fs.Maintain(new MaintenanceBudget()), TestContext.Current.CancellationToken);
        await work.WaitAsync(TimeSpan.FromSeconds(20), TestContext.Current.CancellationToken);
    }

    /// <summary>
    /// Found by the concurrent endurance test: an open handle's unflushed writes already count in the file's size, so
    /// another reader used to read that many bytes from flash (an inline record too short: "cannot be read back").
    /// Readers now see the writer's pending bytes, as the writer's own reads do.
    /// </summary>
    [Theory]
    [InlineData(100, 300)]
    [InlineData(5000, 700)]
    public void A_reader_sees_the_bytes_another_handle_has_written_but_not_flushed(int existing, int appended)
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var start = FfsTestDevice.Pattern(existing, 1);
        var more = FfsTestDevice.Pattern(appended, 2);
        fs.WriteAllBytes("/f", start);
        using (var writer = fs.Open("/f", FlashFileMode.Append))
        {
            writer.Write(more);
            Assert.Equal([.. start, .. more], fs.ReadAllBytes("/f"));
            using var reader = fs.OpenRead("/f");
            var buffer = new byte[existing + appended];
            Assert.Equal(buffer.Length, reader.Read(buffer));
            Assert.Equal([.. start, .. more], buffer);
        }

        Assert.Equal([.. start, .. more], fs.ReadAllBytes("/f"));
        Assert.True(fs.Check().IsClean);
    }

    /// <summary>
    /// The anchor page used to list every checkpoint page, so on 1 KiB NOR pages the index could not pass 224 pages:
    /// the 4,096th small file made the commit's checkpoint fail and faulted the volume. The anchor now lists the blocks
    /// a checkpoint fills (224 of them there).
    /// </summary>
    [Fact]
    public void An_index_of_thousands_of_files_on_small_pages_checkpoints_and_mounts()
    {
        using var dev = FfsTestDevice.Create(FlashGeometry.Nor(1024, 64, 512));
        var fs = FfsTestDevice.FormatAndMount(dev);
        for (int i = 0; i < 6000; i++)
        {
            fs.WriteAllBytes($"/file-with-a-name-{i:D5}", FfsTestDevice.Pattern(8, i));
        }

        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(6000, fs.ListDirectory("/").Count);
        fs.WriteAllBytes("/after", FfsTestDevice.Pattern(100, 1));
        dev.CutPower();
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(FfsTestDevice.Pattern(8, 5999), fs.ReadAllBytes("/file-with-a-name-05999"));
        Assert.Equal(FfsTestDevice.Pattern(100, 1), fs.ReadAllBytes("/after"));
        Assert.True(fs.Check().IsClean);
    }

    /// <summary>
    /// Mount reads the first anchor block it meets, then only the first page of the other: across several switches
    /// between the two anchor blocks (16 anchors fill one here) every mount finds the newest checkpoint.
    /// </summary>
    [Fact]
    public void Mount_finds_the_newest_anchor_across_anchor_block_switches()
    {
        using var dev = FfsTestDevice.Create();
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xF1A5 });
        for (int i = 0; i < 60; i++)
        {
            var fs = FlashFileSystem.Mount(dev);
            Assert.Equal(i, fs.ListDirectory("/").Count);
            fs.WriteAllBytes($"/f{i:D2}", FfsTestDevice.Pattern(100, i));
            fs.Sync();
            fs.Unmount();
        }
    }
}

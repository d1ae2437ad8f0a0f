using System.IO.Compression;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>
/// Volumes of format version 1 (anchors listing every checkpoint page, checkpoints without the open-transaction list)
/// and version 2 (no lost-chunk lists) still mount, clean or after a power cut, and are written in the current version
/// from then on. The version-1 fixtures were written by the library at commit 573b7c1: a directory, an inline and a
/// chunked file, unmounted cleanly; then a new file and a rename, and a power cut. The version-2 fixtures were written
/// at commit 636c2f6: directories /etc, /d/deep, inline /etc/a, chunked /b, /d/deep/x and /h2, unmounted cleanly
/// (v2-clean); then (v2-unclean) a remount with a 2-block checkpoint interval, a handle overwriting /h2's first 100
/// bytes left open while /f0../f11 are written (so periodic checkpoints list its transaction as open), /c written,
/// /etc/a renamed to /etc/renamed, and a power cut. The version-3 fixtures were written at commit c7c0253 with the same
/// history plus /l (three chunks) written before the clean unmount, whose chunk 1 was then damaged and dropped by
/// <c>Check(repair: true)</c>, so its checkpoint entry carries a lost-chunk list. The version-4 fixtures (tags with
/// magic 0xF2, 48-bit sequences and transaction ordinals) were written at commit ec99aae by
/// <see cref="FormatFixtureWriter"/>, which replays that same history in whatever version is current.
/// </summary>
public sealed class FormatVersionTests
{
    private static FlashSimulator Fixture(string name)
    {
        using var resource = typeof(FormatVersionTests).Assembly.GetManifestResourceStream($"Fixtures.{name}.img.gz")
            ?? throw new InvalidOperationException($"Fixture {name} is missing.");
        using var gz = new GZipStream(resource, CompressionMode.Decompress);
        using var image = new MemoryStream();
        gz.CopyTo(image);
        image.Position = 0;
        return FlashSimulator.LoadImage(image, new FlashSimulatorOptions { Geometry = FfsTestDevice.Small, Seed = 1 });
    }

    [Fact]
    public void A_clean_version_1_volume_mounts_and_is_written_in_the_current_version()
    {
        using var dev = Fixture("v1-clean");
        var fs = FlashFileSystem.Mount(dev);
        Assert.Equal(FfsTestDevice.Pattern(300, 1), fs.ReadAllBytes("/etc/a"));
        Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        Assert.True(fs.Check().IsClean);
        fs.WriteAllBytes("/new", FfsTestDevice.Pattern(7000, 4));
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(FfsTestDevice.Pattern(7000, 4), fs.ReadAllBytes("/new"));
        Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        fs.Unmount();
    }

    [Fact]
    public void A_version_1_volume_cut_off_after_changes_recovers_them()
    {
        using var dev = Fixture("v1-unclean");
        var fs = FlashFileSystem.Mount(dev);
        Assert.False(fs.Exists("/etc/a"));
        Assert.Equal(FfsTestDevice.Pattern(300, 1), fs.ReadAllBytes("/etc/renamed"));
        Assert.Equal(FfsTestDevice.Pattern(5000, 3), fs.ReadAllBytes("/c"));
        Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        Assert.True(fs.Check().IsClean);
        fs.Unmount();
    }

    [Fact]
    public void A_clean_version_2_volume_mounts_and_is_written_in_the_current_version()
        => CleanFixtureIsUpgraded("v2-clean", 2, fs => AssertVersion2Content(fs, renamed: false), checkIsClean: true);

    [Fact]
    public void A_version_2_volume_cut_off_with_an_open_handle_recovers_the_committed_changes()
        => UncleanFixtureRecovers("v2-unclean", 2, renamed => fs => AssertVersion2Content(fs, renamed), checkIsClean: true);

    [Fact]
    public void A_clean_version_3_volume_keeps_its_lost_chunk_and_is_written_in_the_current_version()
        => CleanFixtureIsUpgraded("v3-clean", 3, fs => AssertVersion3Content(fs, renamed: false), checkIsClean: false);

    [Fact]
    public void A_version_3_volume_cut_off_with_an_open_handle_recovers_the_committed_changes_and_its_lost_chunk()
        => UncleanFixtureRecovers("v3-unclean", 3, renamed => fs => AssertVersion3Content(fs, renamed), checkIsClean: false);

    [Fact]
    public void A_clean_version_4_volume_keeps_its_content_and_is_written_in_the_current_version()
        => CleanFixtureIsUpgraded("v4-clean", 4, fs => AssertVersion3Content(fs, renamed: false), checkIsClean: false);

    [Fact]
    public void A_version_4_volume_cut_off_with_an_open_handle_recovers_the_committed_changes_from_its_ordinal_tags()
        => UncleanFixtureRecovers("v4-unclean", 4, renamed => fs => AssertVersion3Content(fs, renamed), checkIsClean: false);

    [Fact]
    public void A_clean_version_5_volume_with_its_write_pool_keeps_its_content()
        => CleanFixtureIsUpgraded("v5-clean", 5, fs => AssertVersion3Content(fs, renamed: false), checkIsClean: false);

    [Fact]
    public void A_version_5_volume_cut_off_with_an_open_handle_recovers_from_its_write_pool()
        => UncleanFixtureRecovers("v5-unclean", 5, renamed => fs => AssertVersion3Content(fs, renamed), checkIsClean: false);

    /// <summary>
    /// A cleanly unmounted fixture of <paramref name="version"/> mounts without recovery, holds its content, takes a
    /// write, and is written in the current version at unmount, content and write intact after a remount.
    /// (<paramref name="checkIsClean"/>: whether <c>Check()</c> must find nothing; a lost chunk is a finding.)
    /// </summary>
    private static void CleanFixtureIsUpgraded(string name, int version, Action<FlashFileSystem> content, bool checkIsClean)
    {
        using var dev = Fixture(name);
        Assert.Equal(version, FlashFileSystem.ReadCheckpointImage(dev).Version);
        var fs = FlashFileSystem.Mount(dev);
        Assert.False(fs.MountReport.Recovered);
        content(fs);
        Assert.True(!checkIsClean || fs.Check().IsClean);
        fs.WriteAllBytes("/new", FfsTestDevice.Pattern(7000, 4));
        fs.Unmount();
        Assert.Equal(Flash.Ffs.Format.CheckpointCodec.Version, FlashFileSystem.ReadCheckpointImage(dev).Version);
        fs = FlashFileSystem.Mount(dev);
        Assert.Equal(FfsTestDevice.Pattern(7000, 4), fs.ReadAllBytes("/new"));
        content(fs);
        Assert.True(!checkIsClean || fs.Check().IsClean);
        fs.Unmount();
    }

    /// <summary>
    /// A fixture of <paramref name="version"/> cut off with an open handle listed in its checkpoint recovers every
    /// committed change (the rename, /c, /f0../f11), and is written in the current version at unmount.
    /// </summary>
    private static void UncleanFixtureRecovers(string name, int version, Func<bool, Action<FlashFileSystem>> content, bool checkIsClean)
    {
        using var dev = Fixture(name);
        var image = FlashFileSystem.ReadCheckpointImage(dev);
        Assert.Equal(version, image.Version);
        Assert.NotEmpty(image.OpenTransactions);
        var fs = FlashFileSystem.Mount(dev);
        Assert.True(fs.MountReport.Recovered);
        content(true)(fs);
        Assert.Equal(FfsTestDevice.Pattern(5000, 3), fs.ReadAllBytes("/c"));
        for (int i = 0; i < 12; i++)
        {
            Assert.Equal(FfsTestDevice.Pattern(6000, 100 + i), fs.ReadAllBytes($"/f{i}"));
        }

        Assert.True(!checkIsClean || fs.Check().IsClean);
        fs.Unmount();
        Assert.Equal(Flash.Ffs.Format.CheckpointCodec.Version, FlashFileSystem.ReadCheckpointImage(dev).Version);
        fs = FlashFileSystem.Mount(dev);
        content(true)(fs);
        fs.Unmount();
    }

    /// <summary>The version-2 content, plus /l whose chunk 1 is lost: it reads as corrupt, its other chunks read back.</summary>
    private static void AssertVersion3Content(FlashFileSystem fs, bool renamed)
    {
        AssertVersion2Content(fs, renamed);
        var l = FfsTestDevice.Pattern(3 * fs.ChunkSize, 8);
        Assert.Throws<FlashDataCorruptException>(() => fs.ReadAllBytes("/l"));
        using var file = fs.OpenRead("/l");
        var first = new byte[fs.ChunkSize];
        Assert.Equal(first.Length, file.Read(first));
        Assert.Equal(l.AsSpan(0, fs.ChunkSize).ToArray(), first);
        file.Seek(2L * fs.ChunkSize, SeekOrigin.Begin);
        var last = new byte[fs.ChunkSize];
        Assert.Equal(last.Length, file.Read(last));
        Assert.Equal(l.AsSpan(2 * fs.ChunkSize).ToArray(), last);
        Assert.Throws<FlashDataCorruptException>(() =>
        {
            file.Seek(fs.ChunkSize + 10, SeekOrigin.Begin);
            file.Read(new byte[10]);
        });
    }

    /// <summary>What both version-2 fixtures hold (the handle on /h2 never flushed, so /h2 is as first written).</summary>
    private static void AssertVersion2Content(FlashFileSystem fs, bool renamed)
    {
        Assert.Equal(renamed, !fs.Exists("/etc/a"));
        Assert.Equal(FfsTestDevice.Pattern(300, 1), fs.ReadAllBytes(renamed ? "/etc/renamed" : "/etc/a"));
        Assert.Equal(FfsTestDevice.Pattern(20_000, 2), fs.ReadAllBytes("/b"));
        Assert.Equal(FfsTestDevice.Pattern(5000, 7), fs.ReadAllBytes("/d/deep/x"));
        Assert.Equal(FfsTestDevice.Pattern(4000, 6), fs.ReadAllBytes("/h2"));
    }
}

using System.Buffers.Binary;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Recovery;

namespace Flash.Tests.Ffs.Recovery;

/// <summary>
/// <see cref="VolumeRecovery"/> on its own (through <c>FlashFileSystem.RecoverOnly</c>, which runs it over a fresh
/// facade's components and wires nothing): what it returns for a clean and an unclean volume, that it writes nothing
/// and gives the same result when repeated, that a mount after a cut applies only committed transactions, and that
/// the facade continues exactly where the result says.
/// </summary>
public class VolumeRecoveryTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 16, 48);

    private static readonly FlashFileSystemOptions s_noCheckpoints = new() { CheckpointIntervalBlocks = 100_000 };

    [Fact]
    public void A_clean_volume_recovers_without_replay_and_its_heads_continue_where_the_checkpoint_left_them()
    {
        using var dev = Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/a", FfsTestDevice.Pattern(3 * fs.ChunkSize, 1));
        fs.WriteAllBytes("/small", FfsTestDevice.Pattern(100, 2));
        fs.Unmount();
        long mutations = dev.Statistics.Mutations;

        var image = FlashFileSystem.ReadCheckpointImage(dev);
        var r = FlashFileSystem.RecoverOnly(dev, new FlashFileSystemOptions());
        Assert.True(r.Clean);
        Assert.False(r.Report.Recovered);
        Assert.False(r.Report.FoundDamage);
        Assert.Equal(image.Sequence, r.CheckpointSequence);
        Assert.Equal(image.Sequence, r.Sequence);
        Assert.Equal(image.NextId, r.NextId);
        Assert.Equal(image.NextTxn, r.NextTxn);
        Assert.Equal(new RecoveredHead(image.Hot.Block, image.Hot.WritePointer, Inherited: true), r.Hot);
        Assert.Equal(new RecoveredHead(image.Cold.Block, image.Cold.WritePointer, Inherited: true), r.Cold);
        Assert.Equal(0, r.BlocksSinceCheckpoint);
        Assert.NotEmpty(r.CheckpointPages);
        Assert.InRange(r.AnchorCurrent, 0, 1);
        Assert.Equal(FlashFileSystem.RootId, r.Root.Id);
        Assert.Equal(["a", "small"], r.Root.Children!.Select(n => n.Name).Order());
        Assert.Equal(mutations, dev.Statistics.Mutations);
    }

    [Fact]
    public void A_mount_after_a_cut_replays_only_committed_transactions()
    {
        using var dev = Create();
        var before = FfsTestDevice.Pattern(5000, 3);
        var inTxn = FfsTestDevice.Pattern(7000, 4);
        var fs = FfsTestDevice.FormatAndMount(dev, s_noCheckpoints);
        fs.WriteAllBytes("/before", before);
        using (var txn = fs.BeginTransaction())
        {
            txn.CreateDirectory("/d").WriteAllBytes("/d/t", inTxn).Commit();
        }

        // A transaction of several pages, cut before its commit page.
        dev.CutPowerAfter(3);
        Assert.Throws<PowerLossException>(() =>
        {
            using var txn = fs.BeginTransaction();
            txn.WriteAllBytes("/cut1", FfsTestDevice.Pattern(4 * fs.ChunkSize, 5)).WriteAllBytes("/cut2", FfsTestDevice.Pattern(100, 6)).Commit();
        });
        dev.PowerUp();
        long mutations = dev.Statistics.Mutations;

        var r = FlashFileSystem.RecoverOnly(dev, new FlashFileSystemOptions());
        Assert.False(r.Clean);
        Assert.True(r.Report.Recovered);
        Assert.Empty(r.Report.Dropped);
        Assert.Empty(r.Report.DamagedPages);
        Assert.True(r.Report.PagesReplayed > 0);
        Assert.Equal(new RecoveredHead(-1, 0, Inherited: false), r.Hot);
        Assert.Equal(new RecoveredHead(-1, 0, Inherited: false), r.Cold);
        Assert.True(r.BlocksSinceCheckpoint > 0);
        Assert.True(r.Sequence >= r.CheckpointSequence + VolumeRecovery.SequenceGapAfterRecovery);
        Assert.Equal(["before", "d"], r.Root.Children!.Select(n => n.Name).Order());
        Assert.Equal(mutations, dev.Statistics.Mutations);

        var mounted = FlashFileSystem.Mount(dev);
        Assert.Equal(r.Report.PagesReplayed, mounted.MountReport.PagesReplayed);

        // The replay applied everything: the mount wrote nothing (the next recovery can repeat it).
        Assert.Null(mounted.MountReport.CheckpointReason);
        Assert.False(mounted.MountReport.CheckpointWritten);
        Assert.Equal(mutations, dev.Statistics.Mutations);
        Assert.Equal(before, mounted.ReadAllBytes("/before"));
        Assert.Equal(inTxn, mounted.ReadAllBytes("/d/t"));
        Assert.False(mounted.Exists("/cut1"));
        Assert.False(mounted.Exists("/cut2"));
        Assert.True(mounted.Check().IsClean);

        // The first page written after the mount took the first number after the recovered sequence.
        mounted.WriteAllBytes("/after", FfsTestDevice.Pattern(300, 7));
        dev.CutPower();
        dev.PowerUp();
        Assert.Contains(Sequences(dev), s => s == r.Sequence + 1);
        Assert.DoesNotContain(Sequences(dev), s => s > r.CheckpointSequence + 1000 && s <= r.Sequence);
    }

    [Fact]
    public void A_cancelled_recovery_writes_nothing_and_repeating_it_gives_the_same_result()
    {
        using var dev = Create();
        var fs = FfsTestDevice.FormatAndMount(dev, s_noCheckpoints);
        for (int f = 0; f < 12; f++)
        {
            fs.WriteAllBytes($"/f{f}", FfsTestDevice.Pattern(f % 2 == 0 ? 300 : 3 * fs.ChunkSize, f));
        }

        dev.CutPower();
        dev.PowerUp();
        var image = Save(dev);

        using var cancel = new CancellationTokenSource();
        var cancelling = new FlashFileSystemOptions { MountCancellation = cancel.Token, Progress = p => cancel.Cancel() };
        Assert.ThrowsAny<OperationCanceledException>(() => FlashFileSystem.RecoverOnly(dev, cancelling));
        Assert.ThrowsAny<OperationCanceledException>(() => FlashFileSystem.Mount(dev, cancelling));
        Assert.Equal(image, Save(dev));

        var first = FlashFileSystem.RecoverOnly(dev, new FlashFileSystemOptions());
        var second = FlashFileSystem.RecoverOnly(dev, new FlashFileSystemOptions());
        Assert.Equal(image, Save(dev));
        Assert.Equal(Scalars(first), Scalars(second));
        Assert.Equal(first.CheckpointPages, second.CheckpointPages);
        Assert.Equal(first.Report.ToString(), second.Report.ToString());

        var mounted = FlashFileSystem.Mount(dev);
        Assert.Equal(first.Report.PagesReplayed, mounted.MountReport.PagesReplayed);
        for (int f = 0; f < 12; f++)
        {
            Assert.Equal(FfsTestDevice.Pattern(f % 2 == 0 ? 300 : 3 * fs.ChunkSize, f), mounted.ReadAllBytes($"/f{f}"));
        }
    }

    [Fact]
    public void After_a_clean_mount_the_next_page_takes_the_recovered_sequence_in_the_recovered_heads_place()
    {
        using var dev = Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/a", FfsTestDevice.Pattern(5 * fs.ChunkSize, 1));
        fs.Unmount();

        var r = FlashFileSystem.RecoverOnly(dev, new FlashFileSystemOptions());
        var mounted = FlashFileSystem.Mount(dev);
        mounted.WriteAllBytes("/b", FfsTestDevice.Pattern(fs.ChunkSize, 2));
        dev.CutPower();
        dev.PowerUp();

        var written = Tags(dev).Where(t => t.Sequence > r.Sequence).OrderBy(t => t.Sequence).ToList();
        Assert.NotEmpty(written);
        Assert.Equal(r.Sequence + 1, written[0].Sequence);
        Assert.True(r.Hot.Block >= 0 && r.Hot.WritePointer < s_geometry.PagesPerBlock, "the workload leaves the hot head room in its block");
        Assert.Equal((r.Hot.Block * s_geometry.PagesPerBlock) + r.Hot.WritePointer, written[0].Page);
    }

    private static (bool, ulong, ulong, uint, uint, RecoveredHead, RecoveredHead, int, int, int) Scalars(RecoveredVolume r)
        => (r.Clean, r.CheckpointSequence, r.Sequence, r.NextId, r.NextTxn, r.Hot, r.Cold, r.AnchorCurrent, r.AnchorWritePointer, r.BlocksSinceCheckpoint);

    private static FlashSimulator Create() => FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 21 });

    private static byte[] Save(FlashSimulator dev)
    {
        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        return ms.ToArray();
    }

    private static IEnumerable<ulong> Sequences(FlashSimulator dev) => Tags(dev).Select(t => t.Sequence);

    /// <summary>Every programmed page's sequence number, from the tag in its spare area (docs/format.md, "Page tag").</summary>
    private static List<(int Page, ulong Sequence)> Tags(FlashSimulator dev)
    {
        var image = Save(dev);
        int raw = s_geometry.PageSize + s_geometry.SpareSize;
        var tags = new List<(int, ulong)>();
        for (int p = 0; p < s_geometry.PageCount; p++)
        {
            var t = image.AsSpan((p * raw) + s_geometry.PageSize + s_geometry.SpareFreeOffset, 32);
            if (t[0] is 0xF1 or 0xF2)
            {
                tags.Add((p, BinaryPrimitives.ReadUInt64LittleEndian(t[4..]) & 0xFFFF_FFFF_FFFF));
            }
        }

        return tags;
    }
}

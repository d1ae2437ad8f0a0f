using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Blocks;
using Flash.Ffs.Check;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Recovery;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Ffs.Check;

/// <summary>
/// <see cref="VolumeChecker"/> on its own: the block table and index of a real volume, restored from its checkpoint,
/// with one fault put in RAM (a page older than its block's erase cycle, a page mapped by two files), reported by
/// kind; a repairing check drops the bad mapping through <see cref="IndexMutator"/>, rebuilds the bookkeeping, asks for the
/// checkpoint, and the next check is clean.
/// </summary>
public class VolumeCheckerTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 16, 32);

    [Fact]
    public void A_volume_as_written_is_clean_and_a_check_repairs_nothing()
    {
        using var dev = Volume();
        var c = Components.Restore(dev);
        var report = c.Checker().Run(repair: true, mountDamage: null, CancellationToken.None);
        Assert.True(report.IsClean, report.ToString());
        Assert.Equal(4, report.EntriesChecked);
        Assert.Equal(0, c.Checkpoints);
    }

    [Fact]
    public void A_page_older_than_its_blocks_erase_cycle_is_a_stale_page_and_repair_drops_the_mapping()
    {
        using var dev = Volume();
        var c = Components.Restore(dev);
        var a = c.Node("a");
        int page = a.Chunks!.Get(1);

        // As if the block had been erased and rewritten after the page was: an older copy of the block written back.
        c.Pool.Table.FirstSequence[page / s_geometry.PagesPerBlock] = ulong.MaxValue / 2;
        var found = c.Checker().Run(repair: false, null, CancellationToken.None);
        var stale = Assert.Single(found.Problems, p => p.Kind == FsckProblemKind.StalePage && p.Page == page);
        Assert.False(stale.Repaired);
        Assert.Equal("/a", stale.Path);
        Assert.Equal(page, a.Chunks.Get(1));

        var repaired = c.Checker().Run(repair: true, null, CancellationToken.None);
        Assert.All(repaired.Problems, p => Assert.True(p.Repaired, p.Message));
        Assert.Equal(-1, a.Chunks.Get(1));
        Assert.True(c.Lost.Contains(a.Id, 1u));
        Assert.Equal(1, c.Checkpoints);
        Assert.True(c.Checker().Run(repair: false, null, CancellationToken.None).IsClean);
    }

    [Fact]
    public void A_page_mapped_by_two_files_is_a_double_mapping_and_repair_leaves_it_to_the_first()
    {
        using var dev = Volume();
        var c = Components.Restore(dev);
        var a = c.Node("a");
        var b = c.Node("b");
        int page = a.Chunks!.Get(0);
        int own = c.Index.SetChunk(b, 0, page);
        Assert.True(own >= 0);

        var found = c.Checker().Run(repair: false, null, CancellationToken.None);
        var twice = Assert.Single(found.Problems, p => p.Kind == FsckProblemKind.DoubleMapping);
        Assert.Equal(page, twice.Page);
        Assert.Equal("/b", twice.Path);

        var repaired = c.Checker().Run(repair: true, null, CancellationToken.None);
        Assert.All(repaired.Problems, p => Assert.True(p.Repaired, p.Message));
        Assert.Equal(page, a.Chunks.Get(0));
        Assert.Equal(-1, b.Chunks!.Get(0));
        Assert.True(c.Lost.Contains(b.Id, 0u));
        Assert.True(c.Checker().Run(repair: false, null, CancellationToken.None).IsClean);
    }

    [Fact]
    public void The_mount_reports_damage_is_reported_once_and_marked_repaired_by_a_repairing_check()
    {
        using var dev = Volume();
        var c = Components.Restore(dev);
        var damage = new MountReport(true, 3, [17], 40, ["transaction 5 committed at sequence 41"]);
        var report = c.Checker().Run(repair: true, damage, CancellationToken.None);
        var dropped = Assert.Single(report.Problems);
        Assert.Equal(FsckProblemKind.DroppedChanges, dropped.Kind);
        Assert.Equal(17, dropped.Page);
        Assert.True(dropped.Repaired);
        Assert.Equal(1, c.Checkpoints);
    }

    /// <summary>A clean, unmounted volume: /a and /b of three chunks each, /small inline.</summary>
    private static FlashSimulator Volume()
    {
        var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 11 });
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/a", FfsTestDevice.Pattern(3 * fs.ChunkSize, 1));
        fs.WriteAllBytes("/b", FfsTestDevice.Pattern(3 * fs.ChunkSize, 2));
        fs.WriteAllBytes("/small", FfsTestDevice.Pattern(100, 3));
        fs.Unmount();
        return dev;
    }

    /// <summary>The components a check reads, restored from the volume's checkpoint as recovery restores them.</summary>
    private sealed class Components
    {
        private Components(IFlashDevice device)
        {
            Device = device;
            Pool = new BlockPool(device, NullLogger.Instance, new NoRetirement());
            Index = new IndexMutator(new NodeTable());
            Io = new PageIo(device);
            Inline = new InlinePageRefs(Pool.Table, device.Geometry.PagesPerBlock, Io.PayloadSize);
        }

        public IFlashDevice Device { get; }

        public BlockPool Pool { get; }

        public IndexMutator Index { get; }

        public PageIo Io { get; }

        public InlinePageRefs Inline { get; }

        public LostChunks Lost => Index.Lost;

        /// <summary>Checkpoints the check asked for.</summary>
        public int Checkpoints { get; private set; }

        public static Components Restore(IFlashDevice device)
        {
            var c = new Components(device);
            var image = FlashFileSystem.ReadCheckpointImage(device);
            CheckpointRestore.Blocks(c.Pool.Table, image);
            CheckpointRestore.Index(c.Index.Nodes, c.Index.Lost, image.Entries, FlashFileSystem.RootId);
            PageValidity.Rebuild(c.Pool.Table, c.Index.Nodes, c.Inline);
            return c;
        }

        public Node Node(string name) => Index.Nodes.Values.Single(n => n.Name == name);

        public VolumeChecker Checker() => new(Index, Pool.Table, Io, Device.Geometry.PagesPerBlock, progress: null, Inline, Lost, () => Checkpoints++);
    }

    private sealed class NoRetirement : IBlockRetirementSink
    {
        public void BlockRetired(int block)
        {
        }

        public void BlockMarkedBad(int block)
        {
        }
    }
}

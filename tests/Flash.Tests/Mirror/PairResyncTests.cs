using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Tests.Mirror;

/// <summary>Resynchronisation on its own: a full copy that converges, that is restartable after a cancellation, and that formats a blank device.</summary>
public class PairResyncTests
{
    private sealed class Recorder(Action<PairSyncProgress>? each = null) : IProgress<PairSyncProgress>
    {
        public List<PairSyncProgress> Reports { get; } = [];

        public void Report(PairSyncProgress value)
        {
            Reports.Add(value);
            each?.Invoke(value);
        }
    }

    private static void AssertSame(PairMember source, PairMember target)
    {
        Assert.Equal(source.Store!.Table, target.Store!.Table);
        var s = PairRig.Tree(source.Store.FileSystem);
        var t = PairRig.Tree(target.Store.FileSystem);
        Assert.Equal(s.Keys, t.Keys);
        foreach (var (path, data) in s)
        {
            Assert.True(data.AsSpan().SequenceEqual(t[path]), $"{path} differs");
        }
    }

    /// <summary>Both devices share two files; then each goes its own way (the target gains a file and changes one, the source deletes and adds).</summary>
    private static PairParts Diverged()
    {
        var parts = PairParts.Create();
        parts.WriteBoth("components/keep.bin", PairRig.Pattern(2000, 1));
        parts.WriteBoth("components/change.bin", PairRig.Pattern(1500, 2));
        var a = parts.MemberA.Store!;
        var b = parts.MemberB.Store!;
        a.DeleteAlternate("components/change.bin");
        a.WriteAlternate("components/sub/new.bin", PairRig.Pattern(3000, 3));
        a.WriteAlternate("components/more.bin", PairRig.Pattern(700, 4));
        b.WriteAlternate("components/extra/only-b.bin", PairRig.Pattern(400, 5));
        b.WriteAlternate("components/change.bin", PairRig.Pattern(1500, 6));
        return parts;
    }

    [Fact]
    public void Sync_makes_the_target_a_copy_of_the_source_and_clears_its_mark_in_the_last_commit()
    {
        var parts = Diverged();
        var progress = new Recorder();
        var resync = new PairResync(parts.Failover, parts.Gates, parts.Events, new RedundantPairOptions { Progress = progress });

        resync.Sync(parts.MemberA, parts.MemberB, format: false, CancellationToken.None);

        AssertSame(parts.MemberA, parts.MemberB);
        Assert.False(parts.MemberB.Dirty);
        Assert.False(PairMetadataStore.IsMarkedForResync(parts.MemberB.Store!.FileSystem));
        var last = progress.Reports[^1];
        Assert.Equal(last.FilesTotal, last.FilesDone);
        Assert.Equal(parts.MemberB.DeviceId, last.TargetId);

        // Unchanged files are not rewritten: keep.bin (2000 bytes) is not among the copied bytes.
        Assert.Equal(3000 + 700, last.BytesCopied);
    }

    [Fact]
    public void A_cancelled_sync_leaves_the_target_marked_and_the_next_one_finishes_it()
    {
        var parts = Diverged();
        using var cts = new CancellationTokenSource();
        var resync = new PairResync(parts.Failover, parts.Gates, parts.Events, new RedundantPairOptions { Progress = new Recorder(_ => cts.Cancel()) });

        Assert.ThrowsAny<OperationCanceledException>(() => resync.Sync(parts.MemberA, parts.MemberB, format: false, cts.Token));
        Assert.True(parts.MemberB.Dirty);
        Assert.True(PairMetadataStore.IsMarkedForResync(parts.MemberB.Store!.FileSystem));
        Assert.NotEqual(parts.MemberA.Store!.Table, parts.MemberB.Store.Table);

        resync.Sync(parts.MemberA, parts.MemberB, format: false, CancellationToken.None);
        AssertSame(parts.MemberA, parts.MemberB);
        Assert.False(PairMetadataStore.IsMarkedForResync(parts.MemberB.Store.FileSystem));
    }

    [Fact]
    public void A_blank_target_is_formatted_joined_with_its_own_id_and_filled()
    {
        var parts = PairParts.Create();
        parts.WriteBoth("components/c.bin", PairRig.Pattern(2200, 7));
        var resync = new PairResync(parts.Failover, parts.Gates, parts.Events, new RedundantPairOptions());
        var oldId = parts.MemberB.DeviceId;

        resync.Sync(parts.MemberA, parts.MemberB, format: true, CancellationToken.None);

        AssertSame(parts.MemberA, parts.MemberB);
        var record = PairMetadataStore.ReadDesignation(parts.MemberB.Store!.FileSystem)!;
        Assert.Equal(parts.Failover.PairId, record.PairId);
        Assert.Equal(parts.MemberA.DeviceId, record.PrimaryId);
        Assert.Equal(parts.MemberB.DeviceId, record.DeviceId);
        Assert.Equal(oldId, parts.MemberB.DeviceId); // it had an id of its own already, which it keeps
        Assert.False(PairMetadataStore.IsMarkedForResync(parts.MemberB.Store.FileSystem));
    }
}

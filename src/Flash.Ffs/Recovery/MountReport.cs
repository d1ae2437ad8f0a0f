namespace Flash.Ffs;

/// <summary>
/// What a mount found and did: whether it replayed the log, which damaged pages the replay met and which committed
/// changes it left out because a page they may depend on could not be read (see docs/format.md, "Damage").
/// </summary>
public sealed class MountReport
{
    internal MountReport(
        bool recovered, int pagesReplayed, IReadOnlyList<int> damagedPages, ulong? replayStoppedAt, IReadOnlyList<string> dropped, string? checkpointReason = null, bool checkpointWritten = false, int blocksScanned = 0)
    {
        BlocksScanned = blocksScanned;
        Recovered = recovered;
        PagesReplayed = pagesReplayed;
        DamagedPages = damagedPages;
        ReplayStoppedAt = replayStoppedAt;
        Dropped = dropped;
        CheckpointReason = checkpointReason;
        CheckpointWritten = checkpointWritten;
    }

    /// <summary>A clean mount: nothing was written after the checkpoint, nothing was replayed.</summary>
    internal static MountReport CleanMount { get; } = new(false, 0, [], null, []);

    /// <summary>Whether the mount replayed pages written after the checkpoint (an unclean shutdown).</summary>
    public bool Recovered { get; }

    /// <summary>Pages applied by the replay.</summary>
    public int PagesReplayed { get; }

    /// <summary>Pages the replay found written but unreadable (damaged tag or payload), physical page numbers.</summary>
    public IReadOnlyList<int> DamagedPages { get; }

    /// <summary>
    /// The sequence number of the first page the replay could not account for, when there was one: changes that
    /// committed at or after it were not applied.
    /// </summary>
    public ulong? ReplayStoppedAt { get; }

    /// <summary>The committed changes left out, one description each (empty when nothing was dropped).</summary>
    public IReadOnlyList<string> Dropped { get; }

    /// <summary>
    /// Why the mount had to write a checkpoint after the replay (damage, a replay that stopped early, open transactions
    /// in the mounted checkpoint), or null when it needed none: a replay that applied everything can be repeated by the
    /// next recovery, so the mount leaves the checkpoint to the usual interval.
    /// </summary>
    public string? CheckpointReason { get; }

    /// <summary>Whether the mount wrote a checkpoint (false on a clean mount, a read-only one, when none was needed or there was no room).</summary>
    public bool CheckpointWritten { get; }

    /// <summary>
    /// Blocks whose tags the recovery read looking for pages written after the checkpoint (0 on a clean mount): the
    /// write pool's members and the heads' open blocks on a version-5 volume, every free and full block on older ones.
    /// </summary>
    public int BlocksScanned { get; }

    /// <summary>Whether the mount met damage: damaged pages or dropped changes.</summary>
    public bool FoundDamage => DamagedPages.Count > 0 || Dropped.Count > 0;

    /// <inheritdoc />
    public override string ToString()
        => !Recovered ? "clean mount"
            : $"recovered: {PagesReplayed} page(s) replayed, {DamagedPages.Count} damaged page(s), {Dropped.Count} committed change(s) dropped"
              + (ReplayStoppedAt is { } s ? $" (replay stopped at sequence {s})" : "")
              + (CheckpointWritten ? $"; checkpoint written ({CheckpointReason})" : CheckpointReason is null ? "; no checkpoint needed" : $"; checkpoint due ({CheckpointReason})");

    /// <summary>This report, noting that the mount wrote the checkpoint its reason asked for.</summary>
    internal MountReport WithCheckpointWritten() => new(Recovered, PagesReplayed, DamagedPages, ReplayStoppedAt, Dropped, CheckpointReason, checkpointWritten: true, BlocksScanned);
}

namespace Flash.Ffs.Recovery;

/// <summary>
/// Whether a mount after an unclean shutdown must write a checkpoint before it returns. It need not when the replay
/// applied everything it found: the next recovery then starts from the same checkpoint, finds the same pages and
/// replays them to the same state, and the pages written after this mount follow them beyond the sequence jump
/// <see cref="VolumeRecovery.SequenceGapAfterRecovery"/>, which <see cref="ReplayCutoff"/> takes for the gap an earlier
/// recovery left on purpose. When the replay stopped early or met damage, a second recovery would stop at the same
/// place and leave out everything written after this mount too, so the outcome is written down at once.
/// </summary>
internal static class MountCheckpointPolicy
{
    /// <summary>Why the mount must write a checkpoint, or null when the replayed log can be found and replayed again.</summary>
    /// <param name="report">What the replay applied, met and left out.</param>
    /// <param name="openTransactionsListed">Whether the mounted checkpoint lists transactions open when it was taken
    /// (their blocks are held only until the next checkpoint; a second replay could no longer read them).</param>
    public static string? Reason(MountReport report, bool openTransactionsListed)
    {
        if (report.DamagedPages.Count > 0)
        {
            return "the replay met damaged pages";
        }

        if (report.Dropped.Count > 0 || report.ReplayStoppedAt is not null)
        {
            return "the replay stopped before the end of the log";
        }

        return openTransactionsListed ? "the checkpoint lists open transactions" : null;
    }
}

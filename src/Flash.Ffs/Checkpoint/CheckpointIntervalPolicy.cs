namespace Flash.Ffs.Checkpoint;

/// <summary>
/// How many filled blocks the next checkpoint waits for (issue 19). A mount after a power cut reads a tag for every
/// page written since the checkpoint, so the interval bounds that mount; each checkpoint costs its own pages. Where
/// checkpoints are small (a delta of a few changed files: W4's and W6's overwrites, W8's fill) half the interval
/// halves the pages a mount after a cut reads for a small share of the writes; where they are large (a delta of many
/// new entries, W3's and W7's, or a base of more than a few pages) the configured interval stays. At most a
/// sixteenth of a block (4 pages of 64) a checkpoint every 8 blocks is under 1 % of the writes; W6's mount after a cut
/// 17.4 -> 3.4 ms, W4's WA 1.012 -> 1.018 (an eighth also took W3's 5-page deltas: its WA rose 1.4 %). A pure function
/// of sizes.
/// </summary>
internal static class CheckpointIntervalPolicy
{
    /// <summary>Blocks filled since the current checkpoint at which the next one is due.</summary>
    /// <param name="configured">The configured interval (<see cref="FlashFileSystemOptions.CheckpointIntervalBlocks"/>).</param>
    /// <param name="currentOwnPages">Pages of the current checkpoint's own body (a delta's, without its base); the next delta, cumulative, is at least as large.</param>
    /// <param name="pagesPerBlock">Pages a block.</param>
    /// <returns>Half the configured interval (at least one block) when the current checkpoint filled at most a sixteenth of a block, else the configured one.</returns>
    public static int Blocks(int configured, int currentOwnPages, int pagesPerBlock)
        => currentOwnPages > 0 && currentOwnPages * 16 <= pagesPerBlock ? Math.Max(1, configured / 2) : configured;
}

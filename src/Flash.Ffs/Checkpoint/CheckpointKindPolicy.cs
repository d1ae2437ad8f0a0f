namespace Flash.Ffs.Checkpoint;

/// <summary>
/// Which body the next checkpoint writes (format 5, docs/format.md "Delta checkpoints"): a base (the whole volume) or
/// a delta (what changed since the base, cumulatively). Pure functions of a few sizes.
/// <para>
/// Ski rental: a delta costs what changed since the base and grows with every interval; a base costs the whole
/// volume once and resets the deltas. Writing a base as soon as the deltas written since the last one plus the next
/// one would reach the base's size keeps the total within twice the optimum (about sqrt(2 * base * change) bytes an
/// interval for a steady change rate): no more is spent on deltas than on the base that ends them. A next delta of
/// more than half the base is never worth it (it would also keep more than one and a half bases' blocks claimed).
/// </para>
/// </summary>
internal static class CheckpointKindPolicy
{
    /// <summary>Whether the next checkpoint is a delta.</summary>
    /// <param name="hasBase">Whether a base is current and its changes since are tracked in RAM (not after a mount or with a version-4 body).</param>
    /// <param name="baseBytes">Bytes of the current base.</param>
    /// <param name="deltaBytesSinceBase">Bytes of the deltas committed since it.</param>
    /// <param name="nextDeltaBytes">Bytes the next delta would take.</param>
    /// <returns>True for a delta, false for a base.</returns>
    public static bool WriteDelta(bool hasBase, long baseBytes, long deltaBytesSinceBase, long nextDeltaBytes)
        => hasBase && deltaBytesSinceBase + nextDeltaBytes < baseBytes && nextDeltaBytes * 2 <= baseBytes;

    /// <summary>
    /// Whether the blocks a delta keeps out of garbage collection's reach are a small share of the spare space. A delta
    /// holds its base's blocks and its own (whole blocks, however few pages it fills) where a base written now would
    /// hold only its own; the difference is space the victims cannot hold garbage in. Greedy collection's cost grows
    /// as the inverse square of the spare fraction, so a block is nothing on a large volume but a real share of the
    /// work where the spare is a handful of blocks (a small volume filled up: there a 4-page delta beside a 12-page base
    /// doubled the blocks the checkpoint held and let one operation reclaim four victims of mostly live pages). The
    /// delta is written only when its extra blocks are at most a sixteenth of the spare; a base is small there anyway.
    /// </summary>
    /// <param name="extraBlocks">Blocks the delta and its base hold after it commits, less those a base written now would.</param>
    /// <param name="spareBlocks">Blocks holding no live data: good blocks less the anchors' and those the live pages fill.</param>
    /// <returns>True when a delta is affordable.</returns>
    public static bool DeltaHoldsLittleSpare(int extraBlocks, long spareBlocks)
        => extraBlocks <= 0 || extraBlocks * 16L <= spareBlocks;

    /// <summary>
    /// Free blocks a base needs beside its body's: the block reserved for the checkpoint after it, and each head's
    /// next block (hot and cold). Without all three the next mount takes even a clean unmount for an unclean one.
    /// </summary>
    public const int BaseReservations = 3;

    /// <summary>
    /// Whether a delta, its blocks claimed, still leaves room for the base that may have to follow it (the first
    /// checkpoint after a mount always is one, so an unmount's delta must leave it too). A base releases the old
    /// checkpoint's blocks only once it commits, and a delta keeps its base's claimed, so a first delta after a base
    /// takes its blocks from the reserve a clean unmount keeps: it may do so only while, once it commits (its
    /// predecessor delta's own blocks released), the free blocks still hold a base of <paramref name="nextBaseBlocks"/>
    /// blocks and its <see cref="BaseReservations"/>. Otherwise the checkpoint is a base, which needs what the reserve
    /// always kept (issue 19: a full volume filled to no space, a delta at unmount, then a mount and an unmount that
    /// wrote nothing: the base found no block for the next checkpoint's reservation and the mount after recovered).
    /// </summary>
    /// <param name="freeBlocks">Free blocks once the delta's blocks are claimed (the reservations among them).</param>
    /// <param name="releasedBlocks">Blocks the delta releases when it commits (the current delta's own; none over a base).</param>
    /// <param name="nextBaseBlocks">Blocks a base written next would fill (an upper bound: the base's bytes and the delta's).</param>
    /// <returns>True when the delta may be written, false for a base instead.</returns>
    public static bool DeltaLeavesRoomForBase(int freeBlocks, int releasedBlocks, int nextBaseBlocks)
        => freeBlocks + releasedBlocks >= nextBaseBlocks + BaseReservations;

    /// <summary>Blocks a body of <paramref name="bytes"/> bytes fills.</summary>
    /// <param name="bytes">Its size.</param>
    /// <param name="pageBytes">Payload bytes a page.</param>
    /// <param name="pagesPerBlock">Pages a block.</param>
    /// <returns>The block count.</returns>
    public static int BodyBlocks(long bytes, int pageBytes, int pagesPerBlock)
        => (int)((((bytes + pageBytes - 1) / pageBytes) + pagesPerBlock - 1) / pagesPerBlock);
}

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// Which body the next checkpoint writes (format 5, docs/format.md "Delta checkpoints"): a base (the whole volume) or
/// a delta (what changed since the base, cumulatively). A pure function of four sizes.
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
}

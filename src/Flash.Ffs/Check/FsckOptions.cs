namespace Flash.Ffs;

/// <summary>Options of <see cref="FlashFileSystem.Check(FsckOptions)"/>.</summary>
public sealed class FsckOptions
{
    /// <summary>Repair what can be repaired (see <see cref="FlashFileSystem.Check(bool)"/>).</summary>
    public bool Repair { get; init; }

    /// <summary>
    /// Stops the check at its next progress point (every 256 pages verified) with
    /// <see cref="OperationCanceledException"/>, from another thread or a progress callback. A check only reads, so that
    /// is always safe; a repairing check honours it only until its first repair (repairs, once begun, are finished and
    /// checkpointed).
    /// </summary>
    public CancellationToken Cancellation { get; init; }
}

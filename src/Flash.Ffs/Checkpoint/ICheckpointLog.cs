namespace Flash.Ffs.Checkpoint;

/// <summary>
/// What the checkpoint writer needs from the layers above it that it records but does not own (a narrow callback):
/// the log's sequence counter, which checkpoint and anchor pages take numbers from, the id counters a checkpoint
/// records, and where checkpoint work is timed and reported (metrics).
/// </summary>
internal interface ICheckpointLog
{
    /// <summary>The sequence number of the newest page programmed.</summary>
    ulong Sequence { get; }

    /// <summary>The id the next entry created gets.</summary>
    uint NextId { get; }

    /// <summary>The id the next transaction gets.</summary>
    uint NextTxn { get; }

    /// <summary>A page took sequence number <see cref="Sequence"/> + 1 (a number is used up only by a page that took it).</summary>
    void SequenceTaken();

    /// <summary>A checkpoint committed (its anchor page is programmed).</summary>
    void CheckpointCommitted();

    /// <summary>Times a checkpoint (<c>full</c>) or an incremental step (<c>step</c>) until disposed (a struct: nothing allocated).</summary>
    /// <param name="kind">The kind of checkpoint work.</param>
    /// <returns>The running timer.</returns>
    FfsMetrics.Timer TimeCheckpoint(string kind);
}

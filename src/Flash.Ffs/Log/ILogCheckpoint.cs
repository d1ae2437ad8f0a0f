namespace Flash.Ffs.Log;

/// <summary>
/// What the log tells the checkpoint, which sits above it (a call upwards, so a narrow interface): garbage collection
/// asks the log which sequence the last checkpoint covers, and every block a head closes is one more block the next
/// checkpoint has to cover. Implemented by <see cref="Checkpoint.CheckpointWriter"/>, connected once it exists.
/// </summary>
internal interface ILogCheckpoint
{
    /// <summary>The sequence number the last checkpoint covers (only blocks written up to it may move).</summary>
    ulong CheckpointSequence { get; }

    /// <summary>A head closed a full (or abandoned) block: one more block the next checkpoint has to cover.</summary>
    void BlockClosed();
}

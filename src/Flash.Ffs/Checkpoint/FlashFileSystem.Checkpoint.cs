namespace Flash.Ffs;

/// <summary>
/// The facade's side of the checkpoint: test hooks, and the step after a commit (which needs the facade's maintenance
/// count). The writer takes what it records from their owners directly (the log's sequence, the id counters, the
/// volume's metrics).
/// </summary>
public sealed partial class FlashFileSystem
{
    /// <summary>Incremental checkpoints committed (test hook).</summary>
    internal int IncrementalCheckpointsCommitted => _checkpoint.IncrementalCheckpointsCommitted;

    /// <summary>Whether an incremental checkpoint is being written (test hook).</summary>
    internal bool CheckpointInProgress => _checkpoint.Pending is not null;

    /// <summary>Checkpoints started while handles held uncommitted writes (test hook).</summary>
    internal int CheckpointsOverOpenTransactions => _checkpoint.Coverage.CheckpointsOverOpenTransactions;

    /// <summary>Runs the checkpoint step a commit in this call asked for; Maintain's caller finishes one in progress in idle time.</summary>
    private void AfterCommit() => _checkpoint.AfterCommit(firmwareMaintains: _hotOpensSinceMaintain <= 1);
}

using Flash.Ffs.Checkpoint;

namespace Flash.Ffs;

/// <summary>
/// The facade's side of the checkpoint: it is the writer's <see cref="ICheckpointLog"/> (the sequence and id counters
/// the writer records, which belong to <see cref="Log.PageLog"/>, <see cref="Transactions.TransactionTable"/> and the
/// facade, and the metrics, keyed by the facade), test hooks, and the step after a commit (which needs the facade's
/// maintenance count).
/// </summary>
public sealed partial class FlashFileSystem : ICheckpointLog
{
    /// <summary>Incremental checkpoints committed (test hook).</summary>
    internal int IncrementalCheckpointsCommitted => _checkpoint.IncrementalCheckpointsCommitted;

    /// <summary>Whether an incremental checkpoint is being written (test hook).</summary>
    internal bool CheckpointInProgress => _checkpoint.Pending is not null;

    /// <summary>Checkpoints started while handles held uncommitted writes (test hook).</summary>
    internal int CheckpointsOverOpenTransactions => _checkpoint.Coverage.CheckpointsOverOpenTransactions;

    /// <inheritdoc/>
    ulong ICheckpointLog.Sequence => _pageLog.Sequence;

    /// <inheritdoc/>
    uint ICheckpointLog.NextId => _nextId;

    /// <inheritdoc/>
    uint ICheckpointLog.NextTxn => _txns.NextId;

    /// <inheritdoc/>
    void ICheckpointLog.SequenceTaken() => _pageLog.Sequence++;

    /// <inheritdoc/>
    void ICheckpointLog.CheckpointCommitted() => FfsMetrics.CheckpointWritten(this);

    /// <inheritdoc/>
    FfsMetrics.Timer ICheckpointLog.TimeCheckpoint(string kind) => FfsMetrics.TimeCheckpoint(this, kind);

    /// <summary>Runs the checkpoint step a commit in this call asked for; Maintain's caller finishes one in progress in idle time.</summary>
    private void AfterCommit() => _checkpoint.AfterCommit(firmwareMaintains: _hotOpensSinceMaintain <= 1);
}

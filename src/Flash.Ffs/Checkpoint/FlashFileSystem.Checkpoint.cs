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

    /// <summary>Erases on the device when the operation began (its <see cref="EnsureSpace"/>), for its checkpoint slice.</summary>
    private long _operationErases;

    /// <summary>Pages collection had moved when the operation began, for its checkpoint slice.</summary>
    private long _operationMoves;

    /// <summary>The checkpoint in progress when the operation began and its pages written then, for its checkpoint slice.</summary>
    private (object? Pending, int Written) _operationCheckpoint;

    /// <summary>Marks the start of an operation: its checkpoint slice counts the erases and copy-on-write pages after it.</summary>
    private void MarkOperationStart()
    {
        _operationErases = _device.Statistics.BlockErases;
        _operationMoves = MovesSoFar();
        _operationCheckpoint = (_checkpoint.Pending, _checkpoint.Pending?.Written.Count ?? 0);
    }

    private long MovesSoFar()
    {
        var c = _gc.Counters;
        return c.CollectPagesMoved + c.WearPagesMoved + c.ScrubPagesMoved;
    }

    /// <summary>
    /// Runs the checkpoint step a commit in this call asked for; Maintain's caller finishes one in progress in idle time.
    /// The slice counts what the operation already did since <see cref="MarkOperationStart"/> (<see cref="Wear.PacingPolicy.CheckpointSliceGoesOn"/>).
    /// </summary>
    private void AfterCommit()
    {
        int erases = (int)Math.Min(int.MaxValue, _device.Statistics.BlockErases - _operationErases);
        int moves = (int)Math.Min(int.MaxValue, MovesSoFar() - _operationMoves);
        int copied = _checkpoint.Pending is { } p && ReferenceEquals(p, _operationCheckpoint.Pending) ? Math.Max(0, p.Written.Count - _operationCheckpoint.Written) : 0;
        _checkpoint.AfterCommit(firmwareMaintains: _hotOpensSinceMaintain <= 1, moves, erases, copied);
        _operationErases = _device.Statistics.BlockErases;
        _operationMoves = MovesSoFar();
        _operationCheckpoint = (_checkpoint.Pending, _checkpoint.Pending?.Written.Count ?? 0);
    }
}

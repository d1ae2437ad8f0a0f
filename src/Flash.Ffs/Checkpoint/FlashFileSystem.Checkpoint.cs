using Flash.Ffs.Checkpoint;

namespace Flash.Ffs;

/// <summary>
/// The facade's side of the checkpoint: it is the writer's <see cref="ICheckpointLog"/> (the sequence and id counters
/// the writer records, and the metrics), and keeps the old member names as one-line forwarders to
/// <see cref="CheckpointWriter"/> and <see cref="AnchorStore"/>, so that callers in other folders did not change.
/// </summary>
public sealed partial class FlashFileSystem : ICheckpointLog
{
    private const int AnchorSearchBlocks = AnchorStore.SearchBlocks;

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

    // Forwarders (old names kept for callers in Log/, Index/, Wear/, Check/ and the facade).
    private ulong _checkpointSeq { get => _checkpoint.Sequence; set => _checkpoint.Sequence = value; }

    private int _blocksSinceCheckpoint { get => _checkpoint.BlocksSinceCheckpoint; set => _checkpoint.BlocksSinceCheckpoint = value; }

    private long _checkpointsWritten => _checkpoint.CheckpointsWritten;

    private bool _checkpointStepDue { get => _checkpoint.StepDue; set => _checkpoint.StepDue = value; }

    private List<int> _checkpointPages { get => _checkpoint.Pages; set => _checkpoint.Pages = value; }

    private PendingCheckpoint? _pending => _checkpoint.Pending;

    private int CheckpointSlicePages => _checkpoint.SlicePages;

    private int[] _anchorBlocks => _anchors.Blocks;

    private int _anchorCurrent { get => _anchors.Current; set => _anchors.Current = value; }

    private int _anchorWritePointer { get => _anchors.WritePointer; set => _anchors.WritePointer = value; }

    private void WriteCheckpoint(bool forUnmount) => _checkpoint.Write(forUnmount);

    private bool BeginCheckpoint() => _checkpoint.Begin();

    private void AdvanceCheckpoint(int maxPages, Func<bool> more) => _checkpoint.Advance(maxPages, more);

    private void FinishPendingCheckpoint() => _checkpoint.FinishPending();

    /// <summary>Runs the checkpoint step a commit in this call asked for; Maintain's caller finishes one in progress in idle time.</summary>
    private void AfterCommit() => _checkpoint.AfterCommit(firmwareMaintains: _hotOpensSinceMaintain <= 1);

    private int CheckpointHeadSize() => _checkpoint.HeadSize();

    private int CheckpointSizeEstimate() => _checkpoint.SizeEstimate();

    private AnchorPage FindNewestAnchor() => _anchors.FindNewest();

    private void ParseAnchor(ReadOnlySpan<byte> a, out List<int> pages, out int length, out uint crc) => _anchors.Parse(a, out pages, out length, out crc);

    private void RefuseWritesToMovedAnchors(int foundIn) => _anchors.RefuseWritesIfMoved(foundIn, _options.ReadOnly);
}

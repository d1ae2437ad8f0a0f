using Flash.Ffs.Log;
using Flash.Ffs.Transactions;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// What the layers below tell the checkpoint writer directly (calls upwards, through narrow interfaces): the log's
/// closed blocks and the covered sequence (<see cref="ILogCheckpoint"/>), the transactions' ends and commits
/// (<see cref="ITransactionHost"/>).
/// </summary>
internal sealed partial class CheckpointWriter : ILogCheckpoint, ITransactionHost
{
    /// <inheritdoc/>
    ulong ILogCheckpoint.CheckpointSequence => Sequence;

    /// <inheritdoc/>
    void ILogCheckpoint.BlockClosed() => BlocksSinceCheckpoint++;

    /// <inheritdoc/>
    void ITransactionHost.Ended(PendingTxn txn)
    {
        // Blocks a checkpoint holds for the transaction stay held until a checkpoint taken from now on commits: until
        // then a mount may recover from one that lists the transaction, and its replay of the commit needs the pages
        // written before that checkpoint.
        if (txn.HeldBlocks > 0)
        {
            Coverage.Held.Add((_pageLog.Sequence, txn.Blocks.GetRange(0, txn.HeldBlocks)));
            txn.HeldBlocks = 0;
        }
    }

    /// <inheritdoc/>
    void ITransactionHost.Committed() => StepDue = true;
}

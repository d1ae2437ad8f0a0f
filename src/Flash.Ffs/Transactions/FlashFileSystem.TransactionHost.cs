using Flash.Ffs.Log;
using Flash.Ffs.Transactions;

namespace Flash.Ffs;

/// <summary>
/// The facade's side of the transactions (<see cref="TransactionTable"/>): what they tell the checkpoint through it
/// (<see cref="ITransactionHost"/>).
/// </summary>
public sealed partial class FlashFileSystem : ITransactionHost
{
    /// <inheritdoc/>
    void ITransactionHost.Ended(PendingTxn txn)
    {
        // Blocks a checkpoint holds for the transaction stay held until a checkpoint taken from now on commits: until
        // then a mount may recover from one that lists the transaction, and its replay of the commit needs the pages
        // written before that checkpoint.
        if (txn.HeldBlocks > 0)
        {
            _checkpoint.Coverage.Held.Add((_pageLog.Sequence, txn.Blocks.GetRange(0, txn.HeldBlocks)));
            txn.HeldBlocks = 0;
        }
    }

    /// <inheritdoc/>
    void ITransactionHost.Committed() => _checkpoint.StepDue = true;
}

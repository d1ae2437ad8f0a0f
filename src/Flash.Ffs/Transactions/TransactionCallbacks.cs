using Flash.Ffs.Log;

namespace Flash.Ffs.Transactions;

/// <summary>
/// What the transactions tell the layers above them (a call upwards, so a narrow interface): a checkpoint may hold
/// blocks for a transaction, and a commit is the moment an incremental checkpoint may take its next step. Implemented
/// by <see cref="Checkpoint.CheckpointWriter"/>, connected once it exists.
/// </summary>
internal interface ITransactionHost
{
    /// <summary>
    /// <paramref name="txn"/> ended (committed or dropped) and is about to be forgotten: blocks a checkpoint holds for
    /// it (<see cref="PendingTxn.HeldBlocks"/>) must stay held until a checkpoint taken from now on commits.
    /// </summary>
    void Ended(PendingTxn txn);

    /// <summary>A transaction's commit page is on flash and what it superseded is garbage.</summary>
    void Committed();
}

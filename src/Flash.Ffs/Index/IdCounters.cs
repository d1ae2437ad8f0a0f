namespace Flash.Ffs.Index;

/// <summary>
/// The two id counters a checkpoint records: the id the next entry gets and the id the next transaction gets. The
/// namespace operations take entry ids, <see cref="Transactions.TransactionTable"/> takes transaction ids, recovery sets
/// both past every id in the log, and the checkpoint writer reads them; one owner, below all of them.
/// </summary>
internal sealed class IdCounters
{
    /// <summary>The id of the root directory (the first entry id).</summary>
    public const uint RootId = 1;

    /// <summary>RAM held: this object.</summary>
    public static long RamBytes => RamSize.Object(4 + 4);

    /// <summary>The id the next entry created gets.</summary>
    public uint NextEntry { get; set; } = RootId + 1;

    /// <summary>The id the next transaction gets.</summary>
    public uint NextTxn { get; set; } = 1;

    /// <summary>Takes an entry id.</summary>
    /// <returns>The id.</returns>
    public uint TakeEntry() => NextEntry++;

    /// <summary>Takes a transaction id.</summary>
    /// <returns>The id.</returns>
    public uint TakeTxn() => NextTxn++;
}

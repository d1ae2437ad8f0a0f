using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>Caller-held transactions: the gates around <see cref="MirrorTransactions"/> (the alternate gate from begin to completion, the restriction during the backup).</summary>
public sealed partial class RedundantPair
{
    /// <summary>
    /// Begins a caller-held transaction (claim 57): takes the alternate gate (other changes and alternate access wait
    /// until the transaction completes or aborts) and assigns the id. Ids grow monotonically: each is above every id
    /// committed on either device (stored in their context tables, so they survive restarts) and above every id issued
    /// since mount, aborted ones included.
    /// </summary>
    /// <param name="options">Restriction of the primary during the backup and the backup check; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the wait for the gate.</param>
    /// <returns>The open transaction; dispose it (or complete/abort it) to release the gate. Every other change, alternate
    /// access and the pair's own <see cref="DisposeAsync"/> wait until then.</returns>
    /// <exception cref="PairUnavailableException">No device is in service.</exception>
    public async Task<PairTransaction> BeginTransactionAsync(PairTransactionOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _gates.EnterAlternateAsync(cancellationToken).ConfigureAwait(false);
        return BeginHeld(options);
    }

    /// <summary>
    /// Begins a caller-held transaction (claim 57): takes the alternate gate (other changes and alternate access wait
    /// until the transaction completes or aborts) and assigns the id, as <see cref="BeginTransactionAsync"/> does.
    /// </summary>
    /// <param name="options">Restriction of the primary during the backup and the backup check; defaults when null.</param>
    /// <param name="cancellationToken">Cancels the wait for the gate.</param>
    /// <returns>The open transaction; dispose it (or complete/abort it) to release the gate.</returns>
    /// <exception cref="PairUnavailableException">No device is in service.</exception>
    public PairTransaction BeginTransaction(PairTransactionOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _gates.EnterAlternate(cancellationToken);
        return BeginHeld(options);
    }

    internal bool ExistsOnPrimary(string abs) => _transactions.ExistsOnPrimary(abs);

    internal byte[] ReadOnPrimary(string abs) => _transactions.ReadOnPrimary(abs);

    internal async Task<ContextTable> CompletePrimaryAsync(PairTransaction txn, CancellationToken cancellationToken)
    {
        var commit = _transactions.CommitPrimary(txn, cancellationToken);
        bool restrict = commit.Restricts(txn);
        if (restrict)
        {
            // Close the door to new readers, then wait for the reads already admitted (claim 37).
            await _gates.RestrictAsync(txn.Id, txn.Options.RestrictedReadTimeout).ConfigureAwait(false);
        }

        return Backup(txn, commit, restrict, cancellationToken);
    }

    internal ContextTable CompletePrimary(PairTransaction txn, CancellationToken cancellationToken)
    {
        var commit = _transactions.CommitPrimary(txn, cancellationToken);
        bool restrict = commit.Restricts(txn);
        if (restrict)
        {
            _gates.Restrict(txn.Id, txn.Options.RestrictedReadTimeout);
        }

        return Backup(txn, commit, restrict, cancellationToken);
    }

    internal void Complete(PairTransaction txn)
    {
        if (_transactions.Complete(txn))
        {
            _gates.ExitAlternate();
        }
    }

    internal void Abort(PairTransaction txn)
    {
        if (_transactions.Abort(txn))
        {
            _gates.ExitAlternate();
        }
    }

    private PairTransaction BeginHeld(PairTransactionOptions? options)
    {
        try
        {
            return _transactions.Begin(this, options);
        }
        catch
        {
            _gates.ExitAlternate();
            throw;
        }
    }

    private ContextTable Backup(PairTransaction txn, PrimaryCommit commit, bool restricted, CancellationToken cancellationToken)
    {
        ContextTable result;
        try
        {
            result = _transactions.Backup(txn, commit);
        }
        finally
        {
            if (restricted)
            {
                _gates.Unrestrict(txn.Id);
            }
        }

        if (cancellationToken.IsCancellationRequested)
        {
            throw new MirrorTransactionCanceledException(txn.Id, committed: true, cancellationToken);
        }

        return result;
    }
}

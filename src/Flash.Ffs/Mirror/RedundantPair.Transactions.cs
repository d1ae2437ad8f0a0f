using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>Caller-held transactions: begin, primary commit, verified backup copied from the primary, completion, abort.</summary>
public sealed partial class RedundantPair
{
    private readonly PrimaryRestriction _restriction = new();
    private PairTransaction? _open;
    private ulong _lastIssuedId;

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
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var p = Active();
            var txn = new PairTransaction(this, AllocateId(), p.Store!.Table, options ?? new PairTransactionOptions());
            _open = txn;
            RaiseTransaction(txn.Id, "caller-held", MirrorTransactionPhase.Started);
            return txn;
        }
        catch
        {
            _alternateGate.Release();
            throw;
        }
    }

    /// <summary>The next transaction id: above everything committed on a device in service and everything issued since mount.</summary>
    private ulong AllocateId()
    {
        ulong high = _lastIssuedId;
        foreach (var m in _members)
        {
            if (m.Usable)
            {
                high = Math.Max(high, m.Store!.Table.Sequence);
            }
        }

        _lastIssuedId = high + 1;
        return _lastIssuedId;
    }

    internal Task<bool> ExistsOnPrimaryAsync(string abs, CancellationToken cancellationToken)
        => ServeAsync(s => s.FileSystem.Exists(abs), cancellationToken);

    internal Task<byte[]> ReadOnPrimaryAsync(string abs, CancellationToken cancellationToken)
        => ServeAsync(s => s.FileSystem.ReadAllBytes(abs), cancellationToken);

    internal async Task<ContextTable> CompletePrimaryAsync(PairTransaction txn, CancellationToken cancellationToken)
    {
        RequireHeld(txn);
        txn.RequireOpen("commit the primary part");
        cancellationToken.ThrowIfCancellationRequested();
        string name = txn.ToString();
        ContextTable? result = null;
        PairMember p = null!;
        ulong prior = 0;
        try
        {
            // The primary part, in one atomic commit; when the primary fails meanwhile, on the survivor (then primary).
            while (result is null)
            {
                p = Active();
                prior = p.Store!.Table.Sequence;
                var primary = p;
                result = await OnDeviceAsync(() =>
                {
                    try
                    {
                        return primary.Store.ApplyBatch(txn.Operations, txn.Id);
                    }
                    catch (Exception ex) when (IsDeviceFailure(ex))
                    {
                        Fail(primary, ex);
                        return null;
                    }
                }, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            RaiseTransaction(txn.Id, name, MirrorTransactionPhase.Failed, ex);
            throw;
        }

        txn.State = PairTransactionState.PrimaryCommitted;
        RaiseTransaction(txn.Id, name, MirrorTransactionPhase.PrimaryCompleted);
        result = await BackupAsync(txn, p, prior, result, name).ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            throw new MirrorTransactionCanceledException(txn.Id, committed: true, cancellationToken);
        }

        return result;
    }

    internal Task CompleteAsync(PairTransaction txn)
    {
        RequireHeld(txn);
        if (txn.State is not (PairTransactionState.PrimaryCommitted or PairTransactionState.BackupFailed))
        {
            throw new PairTransactionStateException(txn.Id, txn.State, "only a transaction whose primary part committed can be completed.");
        }

        txn.State = PairTransactionState.Completed;
        RaiseTransaction(txn.Id, txn.ToString(), MirrorTransactionPhase.Completed);
        Release(txn);
        return Task.CompletedTask;
    }

    internal Task AbortAsync(PairTransaction txn)
    {
        if (txn.State == PairTransactionState.Aborted)
        {
            return Task.CompletedTask;
        }

        RequireHeld(txn);
        txn.RequireOpen("abort after the primary part committed");
        txn.State = PairTransactionState.Aborted;
        RaiseTransaction(txn.Id, txn.ToString(), MirrorTransactionPhase.Aborted);
        Release(txn);
        return Task.CompletedTask;
    }

    private void RequireHeld(PairTransaction txn)
    {
        ArgumentNullException.ThrowIfNull(txn);
        if (!ReferenceEquals(_open, txn))
        {
            throw new PairTransactionStateException(txn.Id, txn.State, "it is not the pair's open transaction.");
        }
    }

    private void Release(PairTransaction txn)
    {
        if (ReferenceEquals(_open, txn))
        {
            _open = null;
            _alternateGate.Release();
        }
    }

    /// <summary>
    /// The backup with the transaction's id: every file it wrote is read back from the primary and verified (healed on
    /// the primary from the transaction's bytes when possible), then the copy is committed on the secondary.
    /// </summary>
    private async Task<ContextTable> BackupAsync(PairTransaction txn, PairMember p, ulong prior, ContextTable result, string name)
    {
        var b = Backup();
        if (b is null)
        {
            RaiseTransaction(txn.Id, name, MirrorTransactionPhase.BackupSkipped);
            return result;
        }

        bool restrict = txn.Options.RestrictPrimaryDuringBackup;
        int slots = Math.Max(1, _options.MaxConcurrentReads);
        if (restrict)
        {
            // Close the door to new readers, then wait for the reads already admitted (claim 37).
            _restriction.Close(txn.Id, txn.Options.RestrictedReadTimeout);
            for (int i = 0; i < slots; i++)
            {
                await _readGate.WaitAsync().ConfigureAwait(false);
            }

            _log.LogDebug(MirrorEvents.PrimaryRestricted, "Transaction {TransactionId}: primary {DeviceId} restricted during the backup", txn.Id, p.DeviceId);
        }

        try
        {
            var copy = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (abs, file) in txn.Staged)
            {
                if (file.Data is null)
                {
                    continue;
                }

                byte[]? content = await ReadBackAsync(txn, p, b, abs, file).ConfigureAwait(false);
                if (content is null)
                {
                    // The primary failed while it was read back: the survivor (now primary) gets the primary part.
                    return await OnSurvivorAsync(txn, b, name).ConfigureAwait(false);
                }

                copy[abs] = content;
            }

            var ops = txn.Operations.Select(op => op.Files is null ? op : op with
            {
                Files = op.Files.Select(f => new KeyValuePair<string, byte[]>(f.Key, copy.GetValueOrDefault(ContextStore.Absolute(op.Area, f.Key)) ?? f.Value)).ToArray(),
            }).ToArray();
            await OnDeviceAsync(() =>
            {
                try
                {
                    if (b.Store!.Table.Sequence != prior)
                    {
                        throw new ContextException($"The secondary is at sequence {b.Store.Table.Sequence}, expected {prior}.");
                    }

                    b.Store.ApplyBatch(ops, txn.Id);
                }
                catch (Exception ex) when (IsDeviceFailure(ex))
                {
                    Fail(b, ex);
                }
                catch (Exception ex) when (ex is FlashFileSystemException)
                {
                    Diverged(b, ex);
                }

                return 0;
            }, CancellationToken.None).ConfigureAwait(false);
            RaiseTransaction(txn.Id, name, b.Usable && !b.Dirty ? MirrorTransactionPhase.BackupCompleted : MirrorTransactionPhase.BackupSkipped);
            return result;
        }
        catch (BackupVerificationException ex)
        {
            txn.State = PairTransactionState.BackupFailed;
            await OnDeviceAsync(() =>
            {
                Diverged(b, ex);
                return 0;
            }, CancellationToken.None).ConfigureAwait(false);
            RaiseTransaction(txn.Id, name, MirrorTransactionPhase.Failed, ex);
            throw;
        }
        finally
        {
            if (restrict)
            {
                _readGate.Release(slots);
                _restriction.Open();
                _log.LogDebug(MirrorEvents.PrimaryRestricted, "Transaction {TransactionId}: primary released", txn.Id);
            }
        }
    }

    /// <summary>
    /// Reads one file back from the primary and verifies it; a file that is unreadable or wrong is rewritten from the
    /// transaction's bytes (when those pass the check) and read again. Null when the primary failed meanwhile.
    /// </summary>
    private async Task<byte[]?> ReadBackAsync(PairTransaction txn, PairMember p, PairMember b, string abs, StagedFile file)
    {
        var check = txn.Options.BackupCheck;
        byte[] data = file.Data!;
        bool lost = false;
        byte[]? Read()
        {
            try
            {
                return p.Store!.FileSystem.ReadAllBytes(abs);
            }
            catch (FlashDataCorruptException)
            {
                return null;
            }
            catch (Exception ex) when (IsDeviceFailure(ex))
            {
                Fail(p, ex);
                lost = true;
                return null;
            }
        }

        bool Verifies(byte[]? content) => content is not null && content.AsSpan().SequenceEqual(data) && (check is null || check(file.Area, file.Path, content));

        byte[]? got = await OnDeviceAsync(Read, CancellationToken.None).ConfigureAwait(false);
        if (lost)
        {
            return null;
        }

        if (Verifies(got))
        {
            return got;
        }

        string problem = got is null ? "unreadable" : "content differs from what was written";
        if (check is not null && !check(file.Area, file.Path, data))
        {
            throw new BackupVerificationException(txn.Id, p.DeviceId, abs, problem + "; the transaction's own bytes do not verify either");
        }

        _log.LogWarning(MirrorEvents.BackupVerification, "Transaction {TransactionId}: {Path} on the primary {DeviceId} is {Problem}; rewriting it", txn.Id, abs, p.DeviceId, problem);
        await DeviceStepAsync(p, () => p.Store!.FileSystem.WriteAllBytes(abs, data)).ConfigureAwait(false);
        got = p.IsFailed ? null : await OnDeviceAsync(Read, CancellationToken.None).ConfigureAwait(false);
        if (p.IsFailed || lost)
        {
            return null;
        }

        if (!Verifies(got))
        {
            throw new BackupVerificationException(txn.Id, p.DeviceId, abs, problem + "; still wrong after rewriting it");
        }

        ReportHeal(p, abs);
        return got;
    }

    /// <summary>The primary failed after its commit: the survivor, now primary, commits the transaction from its staged bytes.</summary>
    private async Task<ContextTable> OnSurvivorAsync(PairTransaction txn, PairMember survivor, string name)
    {
        var s = Active();
        if (!ReferenceEquals(s, survivor))
        {
            throw new PairUnavailableException("The primary failed during the backup and the secondary cannot take over.");
        }

        var check = txn.Options.BackupCheck;
        foreach (var (abs, file) in txn.Staged)
        {
            if (file.Data is not null && check is not null && !check(file.Area, file.Path, file.Data))
            {
                throw new BackupVerificationException(txn.Id, s.DeviceId, abs, "the transaction's own bytes do not verify");
            }
        }

        var result = await OnDeviceAsync(() =>
        {
            try
            {
                return s.Store!.ApplyBatch(txn.Operations, txn.Id);
            }
            catch (Exception ex) when (IsDeviceFailure(ex))
            {
                Fail(s, ex);
                throw new PairUnavailableException("Both devices failed during the transaction.", ex);
            }
        }, CancellationToken.None).ConfigureAwait(false);
        RaiseTransaction(txn.Id, name, MirrorTransactionPhase.BackupSkipped);
        return result;
    }
}

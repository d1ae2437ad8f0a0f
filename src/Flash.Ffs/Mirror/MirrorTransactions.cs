using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>What the primary part of a caller-held transaction left for its backup.</summary>
/// <param name="Primary">The device that committed it.</param>
/// <param name="Backup">The secondary to back it up on, or null when the pair is degraded.</param>
/// <param name="Prior">The sequence the primary was at before (the secondary must be there too).</param>
/// <param name="Result">The primary's new table.</param>
/// <param name="Name">The transaction's description, for the events.</param>
internal readonly record struct PrimaryCommit(PairMember Primary, PairMember? Backup, ulong Prior, ContextTable Result, string Name)
{
    /// <summary>Whether the backup restricts the primary (claim 37): a backup runs and the transaction asks for it.</summary>
    public bool Restricts(PairTransaction txn) => Backup is not null && txn.Options.RestrictPrimaryDuringBackup;
}

/// <summary>
/// Caller-held transactions (claims 57–59) over the mirror protocol: begin (the id), the primary part in one atomic
/// commit, the verified backup copied from the primary onto the secondary under the same id, completion and abort.
/// Owns which transaction is open; the staged copies and read-backs come from the pair's <see cref="SliceBuffers"/>.
/// </summary>
/// <remarks>Synchronous. The caller holds the alternate gate from <see cref="Begin"/> until <see cref="Complete"/> or
/// <see cref="Abort"/> say it may be released, and restricts the primary between <see cref="CommitPrimary"/> and
/// <see cref="Backup"/> when <see cref="PrimaryCommit.Restricts"/> says so.</remarks>
internal sealed class MirrorTransactions(MirrorProtocol protocol, PairFailover failover, PairGates gates, PairEvents events, SliceBuffers buffers)
{
    private PairTransaction? _open;

    /// <summary>Opens a transaction with the next id (caller holds the alternate gate).</summary>
    /// <exception cref="PairUnavailableException">No device is in service.</exception>
    public PairTransaction Begin(RedundantPair pair, PairTransactionOptions? options)
    {
        var p = failover.Active();
        var txn = new PairTransaction(pair, protocol.AllocateId(), p.Store!.Table, options ?? new PairTransactionOptions(), buffers);
        _open = txn;
        events.Transaction(txn.Id, "caller-held", MirrorTransactionPhase.Started);
        return txn;
    }

    /// <summary>Whether a file exists on the serving device.</summary>
    public bool ExistsOnPrimary(string abs) => failover.Serve(s => s.FileSystem.Exists(abs));

    /// <summary>Reads a file on the serving device.</summary>
    public byte[] ReadOnPrimary(string abs) => failover.Serve(s => s.FileSystem.ReadAllBytes(abs));

    /// <summary>The primary part: the staged operations in one atomic commit with the transaction's id; when the primary fails meanwhile, on the survivor (then primary).</summary>
    public PrimaryCommit CommitPrimary(PairTransaction txn, CancellationToken cancellationToken)
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
            while (result is null)
            {
                p = failover.Active();
                prior = p.Store!.Table.Sequence;

                // Not cancellable from here on: the check above was the last point of return.
                using (gates.Device(CancellationToken.None))
                {
                    try
                    {
                        result = p.Store.ApplyBatch(txn.Operations, txn.Id);
                    }
                    catch (Exception ex) when (PairFailover.IsDeviceFailure(ex))
                    {
                        failover.Fail(p, ex);
                    }
                }
            }
        }
        catch (Exception ex)
        {
            events.Transaction(txn.Id, name, MirrorTransactionPhase.Failed, ex);
            throw;
        }

        txn.State = PairTransactionState.PrimaryCommitted;
        events.Transaction(txn.Id, name, MirrorTransactionPhase.PrimaryCompleted);
        return new PrimaryCommit(p, failover.Backup(), prior, result, name);
    }

    /// <summary>
    /// The backup with the transaction's id: every file it wrote is read back from the primary and verified (healed on
    /// the primary from the transaction's bytes when possible), then that copy is committed on the secondary.
    /// </summary>
    /// <exception cref="BackupVerificationException">A file did not verify and could not be healed; the secondary is marked for resync.</exception>
    public ContextTable Backup(PairTransaction txn, PrimaryCommit commit)
    {
        var (p, b, prior, result, name) = commit;
        if (b is null)
        {
            events.Transaction(txn.Id, name, MirrorTransactionPhase.BackupSkipped);
            return result;
        }

        var copy = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            foreach (var (abs, file) in txn.Staged)
            {
                if (file.Data is null)
                {
                    continue;
                }

                byte[]? content = ReadBack(txn, p, abs, file);
                if (content is null)
                {
                    // The primary failed while it was read back: the survivor (now primary) gets the primary part.
                    return OnSurvivor(txn, b, name);
                }

                copy[abs] = content;
            }

            var ops = txn.Operations.Select(op => op.Files is null ? op : op with
            {
                Files = op.Files.Select(f => new KeyValuePair<string, byte[]>(f.Key, copy.GetValueOrDefault(ContextStore.Absolute(op.Area, f.Key)) ?? f.Value)).ToArray(),
            }).ToArray();
            protocol.ApplyOnSecondary(b, ops, txn.Id, prior);
            events.Transaction(txn.Id, name, b.Usable && !b.Dirty ? MirrorTransactionPhase.BackupCompleted : MirrorTransactionPhase.BackupSkipped);
            return result;
        }
        catch (BackupVerificationException ex)
        {
            txn.State = PairTransactionState.BackupFailed;
            using (gates.Device())
            {
                failover.Diverged(b, ex);
            }

            events.Transaction(txn.Id, name, MirrorTransactionPhase.Failed, ex);
            throw;
        }
        finally
        {
            // The secondary committed (or will never see) the read-back copies.
            foreach (var content in copy.Values)
            {
                buffers.Give(content);
            }
        }
    }

    /// <summary>Ends a transaction whose primary part committed.</summary>
    /// <returns>Whether the caller now releases the alternate gate.</returns>
    public bool Complete(PairTransaction txn)
    {
        RequireHeld(txn);
        if (txn.State is not (PairTransactionState.PrimaryCommitted or PairTransactionState.BackupFailed))
        {
            throw new PairTransactionStateException(txn.Id, txn.State, "only a transaction whose primary part committed can be completed.");
        }

        txn.State = PairTransactionState.Completed;
        events.Transaction(txn.Id, txn.ToString(), MirrorTransactionPhase.Completed);
        return Close(txn);
    }

    /// <summary>Abandons an open transaction (nothing reached a device); nothing happens when it is already aborted.</summary>
    /// <returns>Whether the caller now releases the alternate gate.</returns>
    public bool Abort(PairTransaction txn)
    {
        if (txn.State == PairTransactionState.Aborted)
        {
            return false;
        }

        RequireHeld(txn);
        txn.RequireOpen("abort after the primary part committed");
        txn.State = PairTransactionState.Aborted;
        events.Transaction(txn.Id, txn.ToString(), MirrorTransactionPhase.Aborted);
        return Close(txn);
    }

    private void RequireHeld(PairTransaction txn)
    {
        ArgumentNullException.ThrowIfNull(txn);
        if (!ReferenceEquals(_open, txn))
        {
            throw new PairTransactionStateException(txn.Id, txn.State, "it is not the pair's open transaction.");
        }
    }

    private bool Close(PairTransaction txn)
    {
        if (!ReferenceEquals(_open, txn))
        {
            return false;
        }

        _open = null;
        txn.ReleaseBuffers();
        return true;
    }

    /// <summary>
    /// Reads one file back from the primary and verifies it; a file that is unreadable or wrong is rewritten from the
    /// transaction's bytes (when those pass the check) and read again. Null when the primary failed meanwhile.
    /// </summary>
    private byte[]? ReadBack(PairTransaction txn, PairMember p, string abs, StagedFile file)
    {
        // A range is checked against the bytes written only: the check sees whole files (the caller checks a file
        // written in ranges as a whole before it commits the last one).
        var check = file.At is null ? txn.Options.BackupCheck : null;
        byte[] data = file.Data!;
        bool lost = false;
        byte[]? Read()
        {
            using (gates.Device())
            {
                try
                {
                    return ReadInto(p.Store!.FileSystem, abs, file.At ?? 0, data.Length, whole: file.At is null);
                }
                catch (FlashDataCorruptException)
                {
                    return null;
                }
                catch (Exception ex) when (PairFailover.IsDeviceFailure(ex))
                {
                    failover.Fail(p, ex);
                    lost = true;
                    return null;
                }
            }
        }

        bool Verifies(byte[]? content) => content is not null && content.AsSpan().SequenceEqual(data) && (check is null || check(file.Area, file.Path, content));

        byte[]? got = Read();
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

        events.Log.LogWarning(MirrorEvents.BackupVerification, "Transaction {TransactionId}: {Path} on the primary {DeviceId} is {Problem}; rewriting it", txn.Id, abs, p.DeviceId, problem);
        failover.Step(p, () => Rewrite(p.Store!.FileSystem, abs, file));
        got = p.IsFailed ? null : Read();
        if (p.IsFailed || lost)
        {
            return null;
        }

        if (!Verifies(got))
        {
            throw new BackupVerificationException(txn.Id, p.DeviceId, abs, problem + "; still wrong after rewriting it");
        }

        events.Healed(p, abs);
        return got;
    }

    /// <summary>
    /// The primary's bytes of a file from <paramref name="at"/>, <paramref name="length"/> of them expected, in one of
    /// the pair's buffers (a fresh array when the file is shorter, or, for a <paramref name="whole"/> file, of another length).
    /// </summary>
    private byte[] ReadInto(FlashFileSystem fs, string abs, long at, int length, bool whole)
    {
        if (whole && fs.GetEntry(abs).Length != length)
        {
            return fs.ReadAllBytes(abs);
        }

        var buffer = buffers.Take(length);
        int n = FileRanges.Read(fs, abs, at, buffer);
        if (n == length)
        {
            return buffer;
        }

        var shorter = buffer[..n];
        buffers.Give(buffer);
        return shorter;
    }

    /// <summary>Writes the transaction's bytes of a file again on the primary (a whole file, or its range).</summary>
    private static void Rewrite(FlashFileSystem fs, string abs, StagedFile file)
    {
        if (file.At is { } at)
        {
            using var txn = fs.BeginTransaction();
            txn.WriteAtOwned(abs, at, file.Data!);
            txn.Commit();
        }
        else
        {
            fs.WriteAllBytes(abs, file.Data);
        }
    }

    /// <summary>The primary failed after its commit: the survivor, now primary, commits the transaction from its staged bytes.</summary>
    private ContextTable OnSurvivor(PairTransaction txn, PairMember survivor, string name)
    {
        var s = failover.Active();
        if (!ReferenceEquals(s, survivor))
        {
            throw new PairUnavailableException("The primary failed during the backup and the secondary cannot take over.");
        }

        var check = txn.Options.BackupCheck;
        foreach (var (abs, file) in txn.Staged)
        {
            if (file.Data is not null && file.At is null && check is not null && !check(file.Area, file.Path, file.Data))
            {
                throw new BackupVerificationException(txn.Id, s.DeviceId, abs, "the transaction's own bytes do not verify");
            }
        }

        ContextTable result;
        using (gates.Device())
        {
            try
            {
                result = s.Store!.ApplyBatch(txn.Operations, txn.Id);
            }
            catch (Exception ex) when (PairFailover.IsDeviceFailure(ex))
            {
                failover.Fail(s, ex);
                throw new PairUnavailableException("Both devices failed during the transaction.", ex);
            }
        }

        events.Transaction(txn.Id, name, MirrorTransactionPhase.BackupSkipped);
        return result;
    }
}

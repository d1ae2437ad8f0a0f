using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>
/// The mirror protocol: every change is committed on the primary first, then repeated on the secondary with the same
/// transaction id (the sequence number both devices store in their context tables). Owns the id counter. When the
/// primary fails during a change the survivor (then primary) takes it; when the secondary cannot repeat it, it is
/// marked for resync.
/// </summary>
/// <remarks>Synchronous. The caller holds the alternate gate for the whole change; each device access is taken under
/// the device lock. Caller-held transactions (<see cref="PairTransaction"/>) are staged in memory, then committed here
/// in two parts so that the caller can restrict the primary between them (<see cref="MirrorTransactions"/>).</remarks>
internal sealed class MirrorProtocol(PairFailover failover, PairGates gates, PairEvents events)
{
    private ulong _lastIssuedId;

    /// <summary>The next transaction id: above everything committed on a device in service and everything issued since mount.</summary>
    public ulong AllocateId()
    {
        ulong high = _lastIssuedId;
        foreach (var m in failover.Members)
        {
            if (m.Usable)
            {
                high = Math.Max(high, m.Store!.Table.Sequence);
            }
        }

        _lastIssuedId = high + 1;
        return _lastIssuedId;
    }

    /// <summary>One change on both devices: built from the primary's table, validated, committed on the primary, then on the secondary.</summary>
    /// <param name="build">Makes the operation from the primary's table.</param>
    /// <param name="cancellationToken">Cancels before the primary commit; once that committed, the backup runs and <see cref="MirrorTransactionCanceledException"/> says so.</param>
    /// <returns>The primary's new table.</returns>
    public ContextTable Mutate(Func<ContextTable, ContextOperation> build, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ulong id = 0;
        ulong before = 0;
        string name = "?";
        try
        {
            // Phase 1: the primary (or, when it fails during the change, the survivor, which becomes primary).
            ContextTable? result = null;
            ContextOperation? op = null;
            while (result is null)
            {
                var p = failover.Active();
                op ??= build(p.Store!.Table);
                name = op.ToString();
                p.Store!.Validate(op);
                ulong prior = p.Store.Table.Sequence;
                ulong seq = AllocateId();
                if (id == 0)
                {
                    id = seq;
                    events.Transaction(id, name, MirrorTransactionPhase.Started);
                }

                cancellationToken.ThrowIfCancellationRequested();
                using (gates.Device(cancellationToken))
                {
                    try
                    {
                        result = p.Store.Apply(op, seq);
                    }
                    catch (Exception ex) when (PairFailover.IsDeviceFailure(ex))
                    {
                        failover.Fail(p, ex);
                    }
                }

                id = seq;
                before = prior;
            }

            events.Transaction(id, name, MirrorTransactionPhase.PrimaryCompleted);

            // Phase 2: the backup with the same id on the secondary; not cancellable so that both devices stay consistent.
            var b = failover.Backup();
            if (b is null)
            {
                events.Transaction(id, name, MirrorTransactionPhase.BackupSkipped);
            }
            else
            {
                ApplyOnSecondary(b, [op!], id, before);
                events.Transaction(id, name, b.Usable && !b.Dirty ? MirrorTransactionPhase.BackupCompleted : MirrorTransactionPhase.BackupSkipped);
            }

            events.Transaction(id, name, MirrorTransactionPhase.Completed);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new MirrorTransactionCanceledException(id, committed: true, cancellationToken);
            }

            return result;
        }
        catch (Exception ex) when (ex is not MirrorTransactionCanceledException && id != 0)
        {
            events.Transaction(id, name, MirrorTransactionPhase.Failed, ex);
            throw;
        }
    }

    /// <summary>
    /// Repeats operations on the secondary with transaction id <paramref name="id"/>, when it is still at
    /// <paramref name="expectedSequence"/>: a device failure takes it out of service, a refusal marks it for resync.
    /// </summary>
    public void ApplyOnSecondary(PairMember b, IReadOnlyList<ContextOperation> ops, ulong id, ulong expectedSequence)
    {
        using (gates.Device())
        {
            try
            {
                if (b.Store!.Table.Sequence != expectedSequence)
                {
                    throw new ContextException($"The secondary is at sequence {b.Store.Table.Sequence}, expected {expectedSequence}.");
                }

                b.Store.ApplyBatch(ops, id);
            }
            catch (Exception ex) when (PairFailover.IsDeviceFailure(ex))
            {
                failover.Fail(b, ex);
            }
            catch (Exception ex) when (ex is FlashFileSystemException)
            {
                failover.Diverged(b, ex);
            }
        }
    }
}

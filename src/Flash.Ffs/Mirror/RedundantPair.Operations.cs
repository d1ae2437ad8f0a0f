using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>Reads, mirrored changes and re-designation.</summary>
public sealed partial class RedundantPair
{
    /// <summary>Reads a file of the current context from the primary; a file unreadable there is repaired from the secondary.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content.</returns>
    public async Task<byte[]> ReadCurrentAsync(string path, CancellationToken cancellationToken = default)
    {
        FlashDataCorruptException corrupt;
        await AdmitReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ServeAsync(s => s.ReadCurrent(path), cancellationToken).ConfigureAwait(false);
        }
        catch (FlashDataCorruptException ex)
        {
            corrupt = ex;
        }
        finally
        {
            _readGate.Release();
        }

        // The repair waits for the alternate gate without holding a read slot (a restricting backup drains the slots).
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await HealAsync(corrupt, path, current: true, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    /// <summary>Admits a read of the primary: past the restriction of a backup (bounded wait), then through the read gate.</summary>
    private async Task AdmitReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _restriction.PassAsync(cancellationToken).ConfigureAwait(false);
            await _readGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!_restriction.IsRestricted)
            {
                return;
            }

            // A backup closed the door while this read waited for its slot: give the slot back and wait at the door.
            _readGate.Release();
        }
    }

    /// <summary>Lists the files of the current context (sorted relative paths).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public async Task<IReadOnlyList<string>> ListCurrentAsync(CancellationToken cancellationToken = default)
    {
        await AdmitReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ServeAsync(s => s.ListCurrent(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _readGate.Release();
        }
    }

    /// <summary>Reads a file of the alternate context from the primary (waits while a change of the alternate is being mirrored).</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content.</returns>
    public async Task<byte[]> ReadAlternateAsync(string path, CancellationToken cancellationToken = default)
    {
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            try
            {
                return await ServeAsync(s => s.ReadAlternate(path), cancellationToken).ConfigureAwait(false);
            }
            catch (FlashDataCorruptException ex)
            {
                return await HealAsync(ex, path, current: false, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    /// <summary>Lists the files of the alternate context (sorted relative paths).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public async Task<IReadOnlyList<string>> ListAlternateAsync(CancellationToken cancellationToken = default)
    {
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ServeAsync(s => s.ListAlternate(), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    /// <summary>Writes a file into the alternate context of both devices (primary first, then secondary).</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content.</param>
    /// <param name="cancellationToken">Cancels before the primary commit; later, see <see cref="MirrorTransactionCanceledException"/>.</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="CurrentContextWriteException">Never for this method; writing the current context is impossible through the pair.</exception>
    public Task<ContextTable> WriteAlternateAsync(string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => MutateAsync(t => new ContextOperation(ContextOperationKind.Write, t.Alternate, [new(path, data.ToArray())]), cancellationToken);

    /// <summary>Writes several files into the alternate context of both devices, each device in one atomic commit.</summary>
    /// <param name="files">Relative paths and contents.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> WriteAlternateAsync(IEnumerable<KeyValuePair<string, byte[]>> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var list = files.ToArray();
        return MutateAsync(t => new ContextOperation(ContextOperationKind.Write, t.Alternate, list), cancellationToken);
    }

    /// <summary>Writes a file into a given area of both devices; refused when the area is current.</summary>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="CurrentContextWriteException"><paramref name="area"/> is current; nothing was written.</exception>
    public Task<ContextTable> WriteAsync(ContextArea area, string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.Write, area, [new(path, data.ToArray())]), cancellationToken);

    /// <summary>Writes configuration files (paths under <c>config/</c>) into the current context of both devices, each device in one atomic commit.</summary>
    /// <param name="files">Relative paths and contents.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="CurrentContextWriteException">A path is outside <c>config/</c>; nothing was written.</exception>
    public Task<ContextTable> WriteCurrentConfigurationAsync(IEnumerable<KeyValuePair<string, byte[]>> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var list = files.ToArray();
        return MutateAsync(t => new ContextOperation(ContextOperationKind.WriteConfiguration, t.Current, list), cancellationToken);
    }

    /// <summary>Reads a file of an area on one given device (no self-heal, no fallback): for verifying each device separately.</summary>
    /// <param name="member">The device.</param>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content, or null when the file does not exist.</returns>
    /// <exception cref="FlashDataCorruptException">The file cannot be read back correctly on that device.</exception>
    public async Task<byte[]?> TryReadAsync(PairMember member, ContextArea area, string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        var store = member.Store ?? throw new PairDegradedException($"Device {member.DeviceId} is out of service.");
        await AdmitReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await OnDeviceAsync(() => store.Exists(area, path) ? store.Read(area, path) : null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _readGate.Release();
        }
    }

    /// <summary>Lists the files of an area on one given device (sorted relative paths).</summary>
    /// <param name="member">The device.</param>
    /// <param name="area">The area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public async Task<IReadOnlyList<string>> ListAsync(PairMember member, ContextArea area, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        var store = member.Store ?? throw new PairDegradedException($"Device {member.DeviceId} is out of service.");
        await AdmitReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await OnDeviceAsync(() => store.List(area), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _readGate.Release();
        }
    }

    /// <summary>Deletes a file of the alternate context on both devices.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> DeleteAlternateAsync(string path, CancellationToken cancellationToken = default)
        => MutateAsync(t => new ContextOperation(ContextOperationKind.Delete, t.Alternate, Path: path), cancellationToken);

    /// <summary>Deletes everything in the alternate context on both devices and marks it invalid.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> ClearAlternateAsync(CancellationToken cancellationToken = default)
        => MutateAsync(t => new ContextOperation(ContextOperationKind.Clear, t.Alternate), cancellationToken);

    /// <summary>Marks the alternate context complete on both devices.</summary>
    /// <param name="label">Version label, or null to keep the current one.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> MarkAlternateCompleteAsync(string? label = null, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.MarkComplete, Label: label), cancellationToken);

    /// <summary>Swaps current and alternate on both devices (each an atomic commit).</summary>
    /// <param name="trial">Whether the new current runs on trial until <see cref="ConfirmCurrentAsync"/>.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> SwitchContextsAsync(bool trial = false, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.Switch, Trial: trial), cancellationToken);

    /// <summary>Sets the alternate-boot flag with a retry count on both devices.</summary>
    /// <param name="retries">Boot attempts allowed, 1 to 65535.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> SetAlternateBootAsync(int retries = 1, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.SetAlternateBoot, Retries: retries), cancellationToken);

    /// <summary>Clears the alternate-boot flag on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> ClearAlternateBootAsync(CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.ClearAlternateBoot), cancellationToken);

    /// <summary>Uses up one alternate-boot retry on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> ConsumeBootRetryAsync(CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.ConsumeBootRetry), cancellationToken);

    /// <summary>Confirms a current context on trial, on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> ConfirmCurrentAsync(CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.ConfirmCurrent), cancellationToken);

    /// <summary>Marks an area invalid on both devices.</summary>
    /// <param name="area">The area.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> InvalidateAsync(ContextArea area, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.Invalidate, area), cancellationToken);

    /// <summary>Swaps the primary and secondary designations (stored on both devices with a new generation; the highest generation wins after a power cut).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The new primary.</returns>
    /// <exception cref="PairDegradedException">A device is out of service.</exception>
    public async Task<PairMember> RedesignateAsync(CancellationToken cancellationToken = default)
    {
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var p = Active();
            var s = Backup() ?? throw new PairDegradedException("Re-designation needs both devices in service.");
            ulong gen = _designationGeneration + 1;
            var record = new DesignationRecord(_pairId, p.DeviceId, s.DeviceId, gen);
            await DeviceStepAsync(p, () => p.Store!.FileSystem.WriteAllBytes(DesignationRecord.Path, record.Encode())).ConfigureAwait(false);
            if (p.IsFailed)
            {
                throw new PairDegradedException("The primary failed during re-designation.");
            }

            await DeviceStepAsync(s, () => s.Store!.FileSystem.WriteAllBytes(DesignationRecord.Path, (record with { DeviceId = s.DeviceId }).Encode())).ConfigureAwait(false);
            if (s.IsFailed)
            {
                throw new PairDegradedException("The secondary failed during re-designation.");
            }

            SetPrimary(s, gen);
            return s;
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    /// <summary>Runs one access on one device; a device failure takes it out of service instead of propagating.</summary>
    private Task DeviceStepAsync(PairMember m, Action access) => OnDeviceAsync(() =>
    {
        try
        {
            access();
        }
        catch (Exception ex) when (IsDeviceFailure(ex))
        {
            Fail(m, ex);
        }

        return 0;
    }, CancellationToken.None);

    private async Task<T> ServeAsync<T>(Func<ContextStore, T> read, CancellationToken cancellationToken)
    {
        while (true)
        {
            PairMember? p = null;
            Exception? failure = null;
            var result = await OnDeviceAsync(() =>
            {
                p = Active();
                try
                {
                    return read(p.Store!);
                }
                catch (Exception ex) when (IsDeviceFailure(ex))
                {
                    Fail(p, ex);
                    failure = ex;
                    return default!;
                }
            }, cancellationToken).ConfigureAwait(false);
            if (failure is null)
            {
                return result;
            }
        }
    }

    private async Task<byte[]> HealAsync(FlashDataCorruptException original, string path, bool current, CancellationToken cancellationToken)
    {
        var p = Active();
        var b = Backup();
        if (b is null || b.Store!.Table.Sequence != p.Store!.Table.Sequence)
        {
            throw original;
        }

        string abs = ContextStore.Absolute(current ? p.Store.Current : p.Store.Alternate, path);
        byte[]? data = await OnDeviceAsync(() =>
        {
            try
            {
                return b.Store.FileSystem.ReadAllBytes(abs);
            }
            catch (Exception ex) when (ex is FlashDataCorruptException || IsDeviceFailure(ex))
            {
                if (IsDeviceFailure(ex))
                {
                    Fail(b, ex);
                }

                return null;
            }
        }, cancellationToken).ConfigureAwait(false);
        if (data is null)
        {
            throw original;
        }

        await DeviceStepAsync(p, () => p.Store.FileSystem.WriteAllBytes(abs, data)).ConfigureAwait(false);
        ReportHeal(p, abs);
        return data;
    }

    private void ReportHeal(PairMember m, string abs)
    {
        _log.LogWarning(MirrorEvents.SelfHeal, "Repaired {Path} on device {DeviceId} from the other device", abs, m.DeviceId);
        SelfHealed?.Invoke(this, new SelfHealEventArgs(m.DeviceId, abs));
    }

    private async Task<ContextTable> MutateAsync(Func<ContextTable, ContextOperation> build, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
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
                var p = Active();
                op ??= build(p.Store!.Table);
                name = op.ToString();
                p.Store!.Validate(op);
                ulong prior = p.Store.Table.Sequence;
                ulong seq = AllocateId();
                if (id == 0)
                {
                    id = seq;
                    RaiseTransaction(id, name, MirrorTransactionPhase.Started);
                }

                cancellationToken.ThrowIfCancellationRequested();
                result = await OnDeviceAsync(() =>
                {
                    try
                    {
                        return p.Store.Apply(op, seq);
                    }
                    catch (Exception ex) when (IsDeviceFailure(ex))
                    {
                        Fail(p, ex);
                        return null;
                    }
                }, cancellationToken).ConfigureAwait(false);
                id = seq;
                before = prior;
            }

            RaiseTransaction(id, name, MirrorTransactionPhase.PrimaryCompleted);

            // Phase 2: the backup with the same id on the secondary; not cancellable so that both devices stay consistent.
            var b = Backup();
            if (b is null)
            {
                RaiseTransaction(id, name, MirrorTransactionPhase.BackupSkipped);
            }
            else
            {
                await OnDeviceAsync(() =>
                {
                    try
                    {
                        if (b.Store!.Table.Sequence != before)
                        {
                            throw new ContextException($"The secondary is at sequence {b.Store.Table.Sequence}, expected {before}.");
                        }

                        b.Store.Apply(op!, id);
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
                RaiseTransaction(id, name, b.Usable && !b.Dirty ? MirrorTransactionPhase.BackupCompleted : MirrorTransactionPhase.BackupSkipped);
            }

            RaiseTransaction(id, name, MirrorTransactionPhase.Completed);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new MirrorTransactionCanceledException(id, committed: true, cancellationToken);
            }

            return result;
        }
        catch (Exception ex) when (ex is not MirrorTransactionCanceledException && id != 0)
        {
            RaiseTransaction(id, name, MirrorTransactionPhase.Failed, ex);
            throw;
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    /// <summary>The secondary could not repeat a change the primary made: it is marked for resynchronisation (on flash too, when possible).</summary>
    private void Diverged(PairMember b, Exception ex)
    {
        b.Dirty = true;
        try
        {
            b.Store!.FileSystem.WriteAllBytes(SyncMarker, []);
        }
        catch (Exception wex) when (IsDeviceFailure(wex) || wex is FlashFileSystemException)
        {
            Fail(b, wex);
            return;
        }

        _log.LogError(MirrorEvents.DeviceFailed, ex, "Device {DeviceId} could not repeat the change; it needs resynchronisation", b.DeviceId);
        HealthChanged?.Invoke(this, new PairHealthEventArgs(b.DeviceId, true, ex.Message));
    }
}

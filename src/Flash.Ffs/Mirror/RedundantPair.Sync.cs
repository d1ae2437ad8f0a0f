using Flash.Drivers;
using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>Mount reconciliation, resynchronisation, device replacement and scrubbing.</summary>
public sealed partial class RedundantPair
{
    /// <summary>
    /// Puts a device in place of the secondary (or of the failed device) and gives it the pair's content: a device that
    /// was a member before is brought up to date, a blank one (or a foreign one when allowed) is formatted and gets a full copy.
    /// Reads of the current context go on meanwhile; changes wait.
    /// </summary>
    /// <param name="device">The new device (may be the same object as the failed one after it was repaired).</param>
    /// <param name="overwriteForeign">Whether a device of another pair may be formatted.</param>
    /// <param name="cancellationToken">Cancels between files; the device then stays marked for resynchronisation.</param>
    /// <returns>A task that completes when the pair is redundant again.</returns>
    /// <exception cref="DeviceGeometryMismatchException">The geometry differs from the primary's.</exception>
    /// <exception cref="PairMismatchException">The device belongs to another pair and <paramref name="overwriteForeign"/> is false.</exception>
    public async Task ReplaceDeviceAsync(IFlashDevice device, bool overwriteForeign = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var source = Active();
            CheckGeometry(source.Device, device);
            if (ReferenceEquals(device, source.Device))
            {
                throw new ArgumentException("The device is the pair's primary.", nameof(device));
            }

            var old = Other(source);
            int index = ReferenceEquals(old, _members[0]) ? 0 : 1;
            var member = new PairMember(device) { Role = PairRole.Secondary };
            bool blank = await OnDeviceAsync(() =>
            {
                CloseStore(old);
                return Probe(member, out var record) switch
                {
                    ProbeResult.Member when record!.PairId == _pairId => false,
                    ProbeResult.Member when !overwriteForeign => throw new PairMismatchException(_pairId, record!.PairId),
                    ProbeResult.Failed => throw new RedundantPairException($"The new device cannot be used: {member.FailureReason}"),
                    _ => true,
                };
            }, cancellationToken).ConfigureAwait(false);
            if (!blank && member.Store is null)
            {
                blank = true;
            }

            _members[index] = member;
            _log.LogInformation(MirrorEvents.Replaced, "Device replaced ({Kind}); resynchronising", blank ? "full copy" : "rejoin");
            await SyncAsync(source, member, blank, cancellationToken).ConfigureAwait(false);
            await DeviceStepAsync(member, () => WriteDesignation(member)).ConfigureAwait(false);
            if (member.Usable && !member.Dirty)
            {
                HealthChanged?.Invoke(this, new PairHealthEventArgs(member.DeviceId, false, "Device resynchronised; pair redundant"));
            }
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    /// <summary>Brings a secondary that is marked for resynchronisation up to date from the primary (nothing to do when the pair is in sync).</summary>
    /// <param name="cancellationToken">Cancels between files.</param>
    /// <returns>Whether anything was copied.</returns>
    public async Task<bool> ResynchronizeAsync(CancellationToken cancellationToken = default)
    {
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var p = Active();
            var s = Other(p);
            if (!s.Usable || (!s.Dirty && s.Store!.Table == p.Store!.Table))
            {
                return false;
            }

            await SyncAsync(p, s, format: false, cancellationToken).ConfigureAwait(false);
            return true;
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    /// <summary>Reads every file of both context areas and both table copies on both devices; a file unreadable on one side is repaired from the other, a file that differs is repaired on the secondary from the primary.</summary>
    /// <param name="cancellationToken">Cancels between files.</param>
    /// <returns>What was checked and repaired.</returns>
    /// <exception cref="PairDegradedException">A device is out of service.</exception>
    public async Task<PairScrubReport> ScrubAsync(CancellationToken cancellationToken = default)
    {
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var p = Active();
            var s = Backup() ?? throw new PairDegradedException("Scrubbing needs both devices in service.");
            var files = await OnDeviceAsync(() => Files(p.Store!.FileSystem).Values.Where(e => !e.IsDirectory).Select(e => e.Path).ToArray(), cancellationToken).ConfigureAwait(false);
            int repaired = 0;
            foreach (string path in files)
            {
                cancellationToken.ThrowIfCancellationRequested();
                byte[]? a = await OnDeviceAsync(() => TryRead(p, path), cancellationToken).ConfigureAwait(false);
                byte[]? b = await OnDeviceAsync(() => TryRead(s, path), cancellationToken).ConfigureAwait(false);
                if (a is null && b is null)
                {
                    _log.LogError(MirrorEvents.SelfHeal, "{Path} is unreadable on both devices", path);
                    continue;
                }

                if (a is null)
                {
                    await DeviceStepAsync(p, () => p.Store!.FileSystem.WriteAllBytes(path, b)).ConfigureAwait(false);
                    ReportHeal(p, path);
                    repaired++;
                }
                else if (b is null || !a.AsSpan().SequenceEqual(b))
                {
                    await DeviceStepAsync(s, () => s.Store!.FileSystem.WriteAllBytes(path, a)).ConfigureAwait(false);
                    ReportHeal(s, path);
                    repaired++;
                }
            }

            return new PairScrubReport(files.Length, repaired);
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    private byte[]? TryRead(PairMember m, string path)
    {
        if (!m.Usable)
        {
            return null;
        }

        try
        {
            return m.Store!.FileSystem.Exists(path) ? m.Store.FileSystem.ReadAllBytes(path) : null;
        }
        catch (FlashDataCorruptException)
        {
            return null;
        }
        catch (Exception ex) when (IsDeviceFailure(ex))
        {
            Fail(m, ex);
            return null;
        }
    }

    private enum ProbeResult
    {
        Blank,
        Member,
        Failed,
    }

    /// <summary>Mounts a device's file system and reads its designation record and context table.</summary>
    private ProbeResult Probe(PairMember m, out DesignationRecord? record)
    {
        record = null;
        FlashFileSystem fs;
        try
        {
            fs = FlashFileSystem.Mount(m.Device, _options.FileSystem);
        }
        catch (Exception ex) when (ex is FileSystemCorruptException or GeometryMismatchException)
        {
            return ProbeResult.Blank;
        }
        catch (FlashException ex)
        {
            m.IsFailed = true;
            m.FailureReason = ex.Message;
            return ProbeResult.Failed;
        }

        try
        {
            record = fs.Exists(DesignationRecord.Path) ? DesignationRecord.TryDecode(fs.ReadAllBytes(DesignationRecord.Path)) : null;
        }
        catch (FlashDataCorruptException)
        {
            record = null;
        }

        if (record is null)
        {
            fs.Unmount();
            return ProbeResult.Blank;
        }

        m.DeviceId = record.DeviceId;
        m.Dirty = fs.Exists(SyncMarker);
        try
        {
            m.Store = ContextStore.Open(fs, _log);
        }
        catch (ContextException ex)
        {
            _log.LogWarning(MirrorEvents.Resync, ex, "Device {DeviceId} has no usable context table", record.DeviceId);
            m.Dirty = true;
            m.Store = null;
            _unopened[m] = fs;
        }

        return ProbeResult.Member;
    }

    private readonly Dictionary<PairMember, FlashFileSystem> _unopened = [];

    private async Task ReconcileAsync(CancellationToken cancellationToken)
    {
        var records = new DesignationRecord?[2];
        var results = new ProbeResult[2];
        for (int i = 0; i < 2; i++)
        {
            int k = i;
            results[k] = await OnDeviceAsync(() => Probe(_members[k], out records[k]), cancellationToken).ConfigureAwait(false);
        }

        if (results[0] == ProbeResult.Member && results[1] == ProbeResult.Member && records[0]!.PairId != records[1]!.PairId)
        {
            if (!_options.AdoptForeignDevice)
            {
                throw new PairMismatchException(records[0]!.PairId, records[1]!.PairId);
            }

            CloseStore(_members[1]);
            _members[1].Dirty = false;
            results[1] = ProbeResult.Blank;
            records[1] = null;
        }

        int members = results.Count(r => r == ProbeResult.Member);
        if (members == 0)
        {
            throw results.Any(r => r == ProbeResult.Failed)
                ? new PairUnavailableException("No device of the pair can be used: " + string.Join("; ", _members.Select(m => m.FailureReason ?? "blank")))
                : new PairNotFormattedException("Neither device carries a redundant pair.");
        }

        var winner = records.Where(r => r is not null).MaxBy(r => r!.Generation)!;
        _pairId = winner.PairId;

        // Devices whose context table is unusable are rebuilt from the other; if none has one, nothing can be done.
        var withTable = _members.Where(m => m.Store is not null).ToArray();
        if (withTable.Length == 0)
        {
            throw new ContextTableCorruptException("Neither device of the pair has a valid context table.");
        }

        foreach (var (m, fs) in _unopened)
        {
            await OnDeviceAsync(() =>
            {
                ContextStore.Initialize(fs, ContextTable.Initial with { Generation = 0 });
                fs.WriteAllBytes(SyncMarker, []);
                m.Store = ContextStore.Open(fs, _log);
                return 0;
            }, cancellationToken).ConfigureAwait(false);
        }

        _unopened.Clear();

        // The freshest device is the source: clean beats interrupted, then the higher sequence, then the designated primary.
        var candidates = _members.Where(m => m.Usable).ToArray();
        var source = candidates
            .OrderBy(m => m.Dirty)
            .ThenByDescending(m => m.Store!.Table.Sequence)
            .ThenBy(m => m.DeviceId == winner.PrimaryId ? 0 : 1)
            .First();
        var designated = candidates.FirstOrDefault(m => m.DeviceId == winner.PrimaryId && !m.Dirty);
        ulong generation = winner.Generation;
        if (designated is null)
        {
            designated = source;
            generation++;
        }

        _primary = designated;
        designated.Role = PairRole.Primary;
        Other(designated).Role = PairRole.Secondary;
        _designationGeneration = generation;

        if (!ReferenceEquals(source, designated))
        {
            _log.LogWarning(MirrorEvents.PrimaryOlder, "Primary {Primary} (sequence {PrimarySeq}) is older than secondary {Secondary} (sequence {SecondarySeq}); updating it",
                designated.DeviceId, designated.Store!.Table.Sequence, source.DeviceId, source.Store!.Table.Sequence);
            await SyncAsync(source, designated, format: false, cancellationToken).ConfigureAwait(false);
        }

        var target = Other(designated);
        int ti = ReferenceEquals(target, _members[0]) ? 0 : 1;
        if (results[ti] == ProbeResult.Blank)
        {
            await SyncAsync(designated, target, format: true, cancellationToken).ConfigureAwait(false);
        }
        else if (target.Usable && (target.Dirty || target.Store!.Table != designated.Store!.Table))
        {
            if (!target.Dirty && target.Store!.Table.Sequence == designated.Store!.Table.Sequence)
            {
                _log.LogWarning(MirrorEvents.Resync, "Context tables differ at equal sequence {Sequence}; repairing the secondary", target.Store.Table.Sequence);
            }

            await SyncAsync(designated, target, format: false, cancellationToken).ConfigureAwait(false);
        }

        foreach (var (m, rec) in _members.Zip(records))
        {
            if (m.Usable && (rec is null || rec.PrimaryId != _primary.DeviceId || rec.Generation != _designationGeneration || rec.PairId != _pairId))
            {
                await DeviceStepAsync(m, () => WriteDesignation(m)).ConfigureAwait(false);
            }
        }

        _log.LogInformation(MirrorEvents.Mounted, "Pair {PairId} mounted: primary {Primary}, secondary {Secondary}, {Table}{Degraded}",
            _pairId, _primary.DeviceId, Secondary.DeviceId, _primary.Store!.Table, IsDegraded ? " (degraded)" : "");
        if (IsDegraded)
        {
            var bad = _members.First(m => !m.Usable || m.Dirty);
            HealthChanged?.Invoke(this, new PairHealthEventArgs(bad.DeviceId, true, bad.FailureReason ?? "Device out of service at mount"));
        }
    }

    /// <summary>All files of both areas and the table copies of a device, by absolute path.</summary>
    private static SortedDictionary<string, FlashEntry> Files(FlashFileSystem fs)
    {
        var map = new SortedDictionary<string, FlashEntry>(StringComparer.Ordinal);
        foreach (string root in (ReadOnlySpan<string>)[ContextLayout.Area0Directory, ContextLayout.Area1Directory])
        {
            foreach (var e in ContextStore.Walk(fs, root))
            {
                map[e.Path] = e;
            }
        }

        return map;
    }

    /// <summary>
    /// Makes <paramref name="target"/> a copy of <paramref name="source"/>: marks it for resync on flash, deletes
    /// extra entries, creates missing directories, writes files that differ (each atomically) and finally, in one
    /// commit, copies the context table and removes the mark. An interruption leaves the mark, so the copy is redone.
    /// </summary>
    private async Task SyncAsync(PairMember source, PairMember target, bool format, CancellationToken cancellationToken)
    {
        var progress = _options.Progress;
        PairMember touching = target;
        try
        {
            await OnDeviceAsync(() =>
            {
                if (format)
                {
                    CloseStore(target);
                    FlashFileSystem.Format(target.Device);
                    var fs = FlashFileSystem.Mount(target.Device, _options.FileSystem);
                    if (target.DeviceId == Guid.Empty || target.DeviceId == source.DeviceId)
                    {
                        target.DeviceId = Guid.NewGuid();
                    }

                    // Until the designation record exists the device counts as blank, so the mark goes with it in one commit.
                    ContextStore.Initialize(fs, ContextTable.Initial with { Generation = 0 });
                    using (var txn = fs.BeginTransaction())
                    {
                        txn.WriteAllBytes(SyncMarker, []);
                        txn.WriteAllBytes(DesignationRecord.Path, new DesignationRecord(_pairId, target.DeviceId, _primary.DeviceId, _designationGeneration).Encode());
                        txn.Commit();
                    }

                    target.Store = ContextStore.Open(fs, _log);
                }
                else if (!target.Store!.FileSystem.Exists(SyncMarker))
                {
                    target.Store.FileSystem.WriteAllBytes(SyncMarker, []);
                }

                target.Dirty = true;
                return 0;
            }, cancellationToken).ConfigureAwait(false);

            var src = await OnDeviceAsync(() => { touching = source; return Files(source.Store!.FileSystem); }, cancellationToken).ConfigureAwait(false);
            var dst = await OnDeviceAsync(() => { touching = target; return Files(target.Store!.FileSystem); }, cancellationToken).ConfigureAwait(false);
            var tfs = target.Store!.FileSystem;
            var sfs = source.Store!.FileSystem;

            // Extra or wrong-kind entries: files first, then directories deepest first.
            var extra = dst.Values.Where(e => !src.TryGetValue(e.Path, out var s) || s.IsDirectory != e.IsDirectory).ToList();
            foreach (var e in extra.Where(e => !e.IsDirectory).Concat(extra.Where(e => e.IsDirectory).OrderByDescending(e => e.Path.Length)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                await OnDeviceAsync(() =>
                {
                    if (e.IsDirectory)
                    {
                        tfs.DeleteDirectory(e.Path);
                    }
                    else
                    {
                        tfs.Delete(e.Path);
                    }

                    return 0;
                }, cancellationToken).ConfigureAwait(false);
                dst.Remove(e.Path);
            }

            foreach (var d in src.Values.Where(e => e.IsDirectory && !dst.ContainsKey(e.Path)).OrderBy(e => e.Path.Length))
            {
                await OnDeviceAsync(() => { tfs.CreateDirectory(d.Path); return 0; }, cancellationToken).ConfigureAwait(false);
            }

            var files = src.Values.Where(e => !e.IsDirectory).ToArray();
            long bytes = 0;
            for (int i = 0; i < files.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var f = files[i];
                byte[] data = await OnDeviceAsync(() => { touching = source; return sfs.ReadAllBytes(f.Path); }, cancellationToken).ConfigureAwait(false);
                bool same = dst.TryGetValue(f.Path, out var t) && t.Length == f.Length
                    && await OnDeviceAsync(() => (touching = target) is not null && TryRead(target, f.Path) is { } old && old.AsSpan().SequenceEqual(data), cancellationToken).ConfigureAwait(false);
                if (!same)
                {
                    await OnDeviceAsync(() => { touching = target; tfs.WriteAllBytes(f.Path, data); return 0; }, cancellationToken).ConfigureAwait(false);
                    bytes += data.Length;
                }

                progress?.Report(new PairSyncProgress(target.DeviceId, i + 1, files.Length, bytes));
            }

            // Final commit: the table copies and the removal of the mark, atomically.
            cancellationToken.ThrowIfCancellationRequested();
            var table = source.Store.Table;
            string newest = ContextStore.TablePath(table.Generation);
            string older = newest == ContextLayout.TableCopy0 ? ContextLayout.TableCopy1 : ContextLayout.TableCopy0;
            byte[]? olderBytes = await OnDeviceAsync(() => { touching = source; return TryRead(source, older); }, cancellationToken).ConfigureAwait(false);
            await OnDeviceAsync(() =>
            {
                touching = target;
                using var txn = tfs.BeginTransaction();
                txn.WriteAllBytes(newest, table.Encode());
                if (olderBytes is not null)
                {
                    txn.WriteAllBytes(older, olderBytes);
                }
                else if (tfs.Exists(older))
                {
                    txn.Delete(older);
                }

                txn.Delete(SyncMarker);
                txn.Commit();
                target.Store.Reload();
                target.Dirty = false;
                return 0;
            }, cancellationToken).ConfigureAwait(false);
            _log.LogInformation(MirrorEvents.Resync, "Device {Target} brought up to date from {Source}: {Files} files examined, {Bytes} bytes copied, {Table}",
                target.DeviceId, source.DeviceId, files.Length, bytes, table);
        }
        catch (Exception ex) when (IsDeviceFailure(ex))
        {
            // Whichever device failed is out of service; the mark on the target makes the copy restart later.
            Fail(touching, ex);
            if (!source.Usable)
            {
                throw new PairUnavailableException("The source of a resynchronisation failed.", ex);
            }
        }
    }
}

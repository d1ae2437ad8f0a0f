using Flash.Drivers;
using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>
/// Brings devices into the pair: the reconciliation at mount (the highest designation generation wins; the device that
/// is behind is brought up to date, a blank one gets a full copy, a failed one leaves the pair degraded) and the
/// replacement of the secondary. Decides; the copying is <see cref="PairResync"/>'s.
/// </summary>
/// <remarks>Owns no state. Mount runs alone; a replacement runs under the alternate gate.</remarks>
internal sealed class PairMount(PairFailover failover, PairGates gates, PairEvents events, PairResync resync, RedundantPairOptions options)
{
    private enum ProbeResult
    {
        Blank,
        Member,
        Failed,
    }

    /// <summary>Formats both devices as a new pair: a fresh file system, an empty context layout and designation records naming <paramref name="primary"/> as primary.</summary>
    public static Guid Format(IFlashDevice primary, IFlashDevice secondary, Guid? pairId)
    {
        var id = pairId ?? Guid.NewGuid();
        var primaryId = Guid.NewGuid();
        var secondaryId = Guid.NewGuid();
        foreach (var (device, own) in (ReadOnlySpan<(IFlashDevice, Guid)>)[(primary, primaryId), (secondary, secondaryId)])
        {
            FlashFileSystem.Format(device);
            var fs = FlashFileSystem.Mount(device);
            try
            {
                ContextStore.Initialize(fs, ContextTable.Initial);
                PairMetadataStore.WriteDesignation(fs, new DesignationRecord(id, own, primaryId, 1));
            }
            finally
            {
                fs.Unmount();
            }
        }

        return id;
    }

    /// <summary>The reconciliation at mount.</summary>
    public void Reconcile(CancellationToken cancellationToken)
    {
        var members = failover.Members;
        var records = new DesignationRecord?[2];
        var results = new ProbeResult[2];
        var unopened = new FlashFileSystem?[2];
        for (int i = 0; i < 2; i++)
        {
            using (gates.Device(cancellationToken))
            {
                results[i] = Probe(members[i], out records[i], out unopened[i]);
            }
        }

        if (results[0] == ProbeResult.Member && results[1] == ProbeResult.Member && records[0]!.PairId != records[1]!.PairId)
        {
            if (!options.AdoptForeignDevice)
            {
                throw new PairMismatchException(records[0]!.PairId, records[1]!.PairId);
            }

            PairFailover.CloseStore(members[1]);
            members[1].Dirty = false;
            results[1] = ProbeResult.Blank;
            records[1] = null;
        }

        if (!results.Contains(ProbeResult.Member))
        {
            throw results.Any(r => r == ProbeResult.Failed)
                ? new PairUnavailableException("No device of the pair can be used: " + string.Join("; ", members.Select(m => m.FailureReason ?? "blank")))
                : new PairNotFormattedException("Neither device carries a redundant pair.");
        }

        var winner = records.Where(r => r is not null).MaxBy(r => r!.Generation)!;
        failover.PairId = winner.PairId;

        // Devices whose context table is unusable are rebuilt from the other; if none has one, nothing can be done.
        if (!members.Any(m => m.Store is not null))
        {
            throw new ContextTableCorruptException("Neither device of the pair has a valid context table.");
        }

        for (int i = 0; i < 2; i++)
        {
            if (unopened[i] is { } fs)
            {
                using (gates.Device(cancellationToken))
                {
                    ContextStore.Initialize(fs, ContextTable.Initial with { Generation = 0 });
                    PairMetadataStore.MarkForResync(fs);
                    members[i].Store = ContextStore.Open(fs, events.Log);
                }
            }
        }

        // The freshest device is the source: clean beats interrupted, then the higher sequence, then the designated primary.
        var candidates = members.Where(m => m.Usable).ToArray();
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

        failover.Adopt(designated, generation);
        if (!ReferenceEquals(source, designated))
        {
            events.Log.LogWarning(MirrorEvents.PrimaryOlder, "Primary {Primary} (sequence {PrimarySeq}) is older than secondary {Secondary} (sequence {SecondarySeq}); updating it",
                designated.DeviceId, designated.Store!.Table.Sequence, source.DeviceId, source.Store!.Table.Sequence);
            resync.Sync(source, designated, format: false, cancellationToken);
        }

        var target = failover.Other(designated);
        if (results[failover.IndexOf(target)] == ProbeResult.Blank)
        {
            resync.Sync(designated, target, format: true, cancellationToken);
        }
        else if (target.Usable && (target.Dirty || target.Store!.Table != designated.Store!.Table))
        {
            if (!target.Dirty && target.Store!.Table.Sequence == designated.Store!.Table.Sequence)
            {
                events.Log.LogWarning(MirrorEvents.Resync, "Context tables differ at equal sequence {Sequence}; repairing the secondary", target.Store.Table.Sequence);
            }

            resync.Sync(designated, target, format: false, cancellationToken);
        }

        var primary = failover.Primary;
        foreach (var (m, rec) in members.Zip(records))
        {
            if (m.Usable && (rec is null || rec.PrimaryId != primary.DeviceId || rec.Generation != failover.Generation || rec.PairId != failover.PairId))
            {
                failover.Step(m, () => failover.WriteDesignation(m));
            }
        }

        events.Log.LogInformation(MirrorEvents.Mounted, "Pair {PairId} mounted: primary {Primary}, secondary {Secondary}, {Table}{Degraded}",
            failover.PairId, primary.DeviceId, failover.Other(primary).DeviceId, primary.Store!.Table, failover.IsDegraded ? " (degraded)" : "");
        if (failover.IsDegraded)
        {
            var bad = members.First(m => !m.Usable || m.Dirty);
            events.Health(bad.DeviceId, true, bad.FailureReason ?? "Device out of service at mount");
        }
    }

    /// <summary>Puts <paramref name="device"/> in place of the secondary and gives it the pair's content (caller holds the alternate gate).</summary>
    public void Replace(IFlashDevice device, bool overwriteForeign, CancellationToken cancellationToken)
    {
        var source = failover.Active();
        RedundantPair.CheckGeometry(source.Device, device);
        if (ReferenceEquals(device, source.Device))
        {
            throw new ArgumentException("The device is the pair's primary.", nameof(device));
        }

        var old = failover.Other(source);
        int index = failover.IndexOf(old);
        var member = new PairMember(device) { Role = PairRole.Secondary };
        bool blank;
        using (gates.Device(cancellationToken))
        {
            PairFailover.CloseStore(old);
            blank = Probe(member, out var record, out _) switch
            {
                ProbeResult.Member when record!.PairId == failover.PairId => false,
                ProbeResult.Member when !overwriteForeign => throw new PairMismatchException(failover.PairId, record!.PairId),
                ProbeResult.Failed => throw new RedundantPairException($"The new device cannot be used: {member.FailureReason}"),
                _ => true,
            };
        }

        if (!blank && member.Store is null)
        {
            blank = true;
        }

        failover.Replace(index, member);
        events.Log.LogInformation(MirrorEvents.Replaced, "Device replaced ({Kind}); resynchronising", blank ? "full copy" : "rejoin");
        resync.Sync(source, member, blank, cancellationToken);
        failover.Step(member, () => failover.WriteDesignation(member));
        if (member.Usable && !member.Dirty)
        {
            events.Health(member.DeviceId, false, "Device resynchronised; pair redundant");
        }
    }

    /// <summary>
    /// Mounts a device's file system and reads its designation record and context table. A member whose table is
    /// unusable is dirty and returned with its file system in <paramref name="unopened"/> (to be re-initialised).
    /// Caller holds the device lock.
    /// </summary>
    private ProbeResult Probe(PairMember m, out DesignationRecord? record, out FlashFileSystem? unopened)
    {
        record = null;
        unopened = null;
        FlashFileSystem fs;
        try
        {
            fs = FlashFileSystem.Mount(m.Device, options.FileSystem);
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

        record = PairMetadataStore.ReadDesignation(fs);
        if (record is null)
        {
            fs.Unmount();
            return ProbeResult.Blank;
        }

        m.DeviceId = record.DeviceId;
        m.Dirty = PairMetadataStore.IsMarkedForResync(fs);
        try
        {
            m.Store = ContextStore.Open(fs, events.Log);
        }
        catch (ContextException ex)
        {
            events.Log.LogWarning(MirrorEvents.Resync, ex, "Device {DeviceId} has no usable context table", record.DeviceId);
            m.Dirty = true;
            m.Store = null;
            unopened = fs;
        }

        return ProbeResult.Member;
    }
}

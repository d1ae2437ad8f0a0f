using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>
/// Resynchronisation: makes one device a copy of the other, file by file, restartable after any interruption. The
/// target is marked for resync on flash first; the mark goes only in the final commit that also copies the context
/// table, so a power cut, a cancellation or a failure anywhere in between leaves the mark and the copy is redone.
/// </summary>
/// <remarks>Owns no state beyond its options. The caller holds the alternate gate (or runs alone, at mount); each device
/// access is one step under the device lock, so reads of the current context interleave with a long copy.</remarks>
internal sealed class PairResync(PairFailover failover, PairGates gates, PairEvents events, RedundantPairOptions options)
{
    /// <summary>All files and directories of both areas of a device, by absolute path (caller holds the device lock).</summary>
    public static SortedDictionary<string, FlashEntry> Files(FlashFileSystem fs)
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
    /// Makes <paramref name="target"/> a copy of <paramref name="source"/>: marks it for resync on flash (formatting it
    /// first when <paramref name="format"/>), deletes extra entries, creates missing directories, writes files that
    /// differ (each atomically) and finally, in one commit, copies the context table and removes the mark.
    /// </summary>
    /// <exception cref="PairUnavailableException">The source failed.</exception>
    public void Sync(PairMember source, PairMember target, bool format, CancellationToken cancellationToken)
    {
        var progress = options.Progress;
        PairMember touching = target;
        try
        {
            using (gates.Device(cancellationToken))
            {
                Mark(source, target, format);
            }

            SortedDictionary<string, FlashEntry> src;
            SortedDictionary<string, FlashEntry> dst;
            using (gates.Device(cancellationToken))
            {
                touching = source;
                src = Files(source.Store!.FileSystem);
            }

            using (gates.Device(cancellationToken))
            {
                touching = target;
                dst = Files(target.Store!.FileSystem);
            }

            var tfs = target.Store!.FileSystem;
            var sfs = source.Store!.FileSystem;

            // Extra or wrong-kind entries: files first, then directories deepest first.
            var extra = dst.Values.Where(e => !src.TryGetValue(e.Path, out var s) || s.IsDirectory != e.IsDirectory).ToList();
            foreach (var e in extra.Where(e => !e.IsDirectory).Concat(extra.Where(e => e.IsDirectory).OrderByDescending(e => e.Path.Length)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                using (gates.Device(cancellationToken))
                {
                    if (e.IsDirectory)
                    {
                        tfs.DeleteDirectory(e.Path);
                    }
                    else
                    {
                        tfs.Delete(e.Path);
                    }
                }

                dst.Remove(e.Path);
            }

            foreach (var d in src.Values.Where(e => e.IsDirectory && !dst.ContainsKey(e.Path)).OrderBy(e => e.Path.Length))
            {
                using (gates.Device(cancellationToken))
                {
                    tfs.CreateDirectory(d.Path);
                }
            }

            var files = src.Values.Where(e => !e.IsDirectory).ToArray();
            long bytes = 0;
            for (int i = 0; i < files.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var f = files[i];
                byte[] data;
                using (gates.Device(cancellationToken))
                {
                    touching = source;
                    data = sfs.ReadAllBytes(f.Path);
                }

                bool same = false;
                if (dst.TryGetValue(f.Path, out var t) && t.Length == f.Length)
                {
                    using (gates.Device(cancellationToken))
                    {
                        touching = target;
                        same = failover.TryRead(target, f.Path) is { } old && old.AsSpan().SequenceEqual(data);
                    }
                }

                if (!same)
                {
                    using (gates.Device(cancellationToken))
                    {
                        touching = target;
                        tfs.WriteAllBytes(f.Path, data);
                    }

                    bytes += data.Length;
                }

                progress?.Report(new PairSyncProgress(target.DeviceId, i + 1, files.Length, bytes));
            }

            // Final commit: the table copies and the removal of the mark, atomically.
            cancellationToken.ThrowIfCancellationRequested();
            var table = source.Store.Table;
            byte[]? olderCopy;
            using (gates.Device(cancellationToken))
            {
                touching = source;
                olderCopy = failover.TryRead(source, ContextTableCopies.OlderCopyPath(table));
            }

            using (gates.Device(cancellationToken))
            {
                touching = target;
                PairMetadataStore.FinishResync(tfs, table, olderCopy);
                target.Store.Reload();
                target.Dirty = false;
            }

            events.Log.LogInformation(MirrorEvents.Resync, "Device {Target} brought up to date from {Source}: {Files} files examined, {Bytes} bytes copied, {Table}",
                target.DeviceId, source.DeviceId, files.Length, bytes, table);
        }
        catch (Exception ex) when (PairFailover.IsDeviceFailure(ex))
        {
            // Whichever device failed is out of service; the mark on the target makes the copy restart later.
            failover.Fail(touching, ex);
            if (!source.Usable)
            {
                throw new PairUnavailableException("The source of a resynchronisation failed.", ex);
            }
        }
    }

    /// <summary>The first step: the mark on flash (on a freshly formatted target, together with its designation record).</summary>
    private void Mark(PairMember source, PairMember target, bool format)
    {
        if (format)
        {
            PairFailover.CloseStore(target);
            FlashFileSystem.Format(target.Device);
            var fs = FlashFileSystem.Mount(target.Device, options.FileSystem);
            if (target.DeviceId == Guid.Empty || target.DeviceId == source.DeviceId)
            {
                target.DeviceId = Guid.NewGuid();
            }

            // Until the designation record exists the device counts as blank, so the mark goes with it in one commit.
            ContextStore.Initialize(fs, ContextTable.Initial with { Generation = 0 });
            PairMetadataStore.JoinMarkedForResync(fs, failover.RecordFor(target));
            target.Store = ContextStore.Open(fs, events.Log);
        }
        else if (!PairMetadataStore.IsMarkedForResync(target.Store!.FileSystem))
        {
            PairMetadataStore.MarkForResync(target.Store.FileSystem);
        }

        target.Dirty = true;
    }
}

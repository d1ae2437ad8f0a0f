using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>
/// Self-heal: a file unreadable (or wrong) on one device is rewritten from the other device's copy. Serves the
/// repair after a damaged read, the explicit heal of a current-context file, and the scrub of both devices.
/// </summary>
/// <remarks>Owns no state. The caller holds the alternate gate (a repair is a change) and no read slot; every device
/// access is taken under the device lock, one device at a time.</remarks>
internal sealed class PairHealer(PairFailover failover, PairGates gates, PairEvents events)
{
    /// <summary>
    /// Repairs a file whose read on the primary failed with <paramref name="original"/> from the secondary (only when
    /// both devices are at the same sequence) and returns its content; rethrows <paramref name="original"/> when no
    /// good copy exists.
    /// </summary>
    public byte[] Heal(FlashDataCorruptException original, string path, bool current)
    {
        var p = failover.Active();
        var b = failover.Backup();
        if (b is null || b.Store!.Table.Sequence != p.Store!.Table.Sequence)
        {
            throw original;
        }

        string abs = ContextStore.Absolute(current ? p.Store.Current : p.Store.Alternate, path);
        byte[]? data;
        using (gates.Device())
        {
            data = ReadOrFail(b, abs, absentIsNull: false);
        }

        if (data is null)
        {
            throw original;
        }

        failover.Step(p, () => p.Store.FileSystem.WriteAllBytes(abs, data));
        events.Healed(p, abs);
        return data;
    }

    /// <summary>
    /// Rewrites the primary's copy of a current-context file from the secondary's when <paramref name="accept"/>
    /// refuses the primary's and approves the secondary's content.
    /// </summary>
    /// <returns>Whether the primary was rewritten.</returns>
    public bool HealCurrent(string path, Func<ReadOnlyMemory<byte>, bool> accept)
    {
        var p = failover.Active();
        var b = failover.Backup();
        if (b is null || b.Store!.Table.Sequence != p.Store!.Table.Sequence)
        {
            return false;
        }

        string abs = ContextStore.Absolute(p.Store.Current, path);
        bool primaryGood;
        using (gates.Device())
        {
            try
            {
                primaryGood = p.Store.FileSystem.Exists(abs) && accept(p.Store.FileSystem.ReadAllBytes(abs));
            }
            catch (Exception ex) when (ex is FlashDataCorruptException || PairFailover.IsDeviceFailure(ex))
            {
                primaryGood = false;
            }
        }

        if (primaryGood)
        {
            return false; // nothing to repair: the primary's copy is the right one
        }

        byte[]? data;
        using (gates.Device())
        {
            data = ReadOrFail(b, abs, absentIsNull: true);
        }

        if (data is null || !accept(data))
        {
            return false;
        }

        failover.Step(p, () => p.Store.FileSystem.WriteAllBytes(abs, data));
        events.Healed(p, abs);
        return true;
    }

    /// <summary>
    /// Reads every file of both areas and both table copies on both devices; a file unreadable on one side is repaired
    /// from the other, a file that differs is repaired on the secondary from the primary.
    /// </summary>
    /// <exception cref="PairDegradedException">A device is out of service.</exception>
    public PairScrubReport Scrub(CancellationToken cancellationToken)
    {
        var p = failover.Active();
        var s = failover.Backup() ?? throw new PairDegradedException("Scrubbing needs both devices in service.");
        string[] files;
        using (gates.Device(cancellationToken))
        {
            files = PairResync.Files(p.Store!.FileSystem).Values.Where(e => !e.IsDirectory).Select(e => e.Path).ToArray();
        }

        int repaired = 0;
        foreach (string path in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[]? a;
            byte[]? b;
            using (gates.Device(cancellationToken))
            {
                a = failover.TryRead(p, path);
            }

            using (gates.Device(cancellationToken))
            {
                b = failover.TryRead(s, path);
            }

            if (a is null && b is null)
            {
                events.Log.LogError(MirrorEvents.SelfHeal, "{Path} is unreadable on both devices", path);
                continue;
            }

            if (a is null)
            {
                failover.Step(p, () => p.Store!.FileSystem.WriteAllBytes(path, b));
                events.Healed(p, path);
                repaired++;
            }
            else if (b is null || !a.AsSpan().SequenceEqual(b))
            {
                failover.Step(s, () => s.Store!.FileSystem.WriteAllBytes(path, a));
                events.Healed(s, path);
                repaired++;
            }
        }

        return new PairScrubReport(files.Length, repaired);
    }

    /// <summary>The file on <paramref name="m"/>, or null when unreadable (or absent, if <paramref name="absentIsNull"/>; otherwise absence throws); a device failure takes it out of service.</summary>
    private byte[]? ReadOrFail(PairMember m, string abs, bool absentIsNull)
    {
        try
        {
            var fs = m.Store!.FileSystem;
            return !absentIsNull || fs.Exists(abs) ? fs.ReadAllBytes(abs) : null;
        }
        catch (Exception ex) when (ex is FlashDataCorruptException || PairFailover.IsDeviceFailure(ex))
        {
            if (PairFailover.IsDeviceFailure(ex))
            {
                failover.Fail(m, ex);
            }

            return null;
        }
    }
}

using System.Buffers;
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
    /// The ranged twin of <see cref="Heal"/>: a read of bytes [<paramref name="offset"/>, + destination) of a file failed
    /// on the primary with <paramref name="original"/>. The whole chunks that hold the range are read from the secondary
    /// (only when both devices are at the same sequence and hold the file at the same length; the secondary's own page
    /// checks verify them), rewritten on the primary in one file-system transaction, and the range is served from
    /// them. Memory: one buffer of the range rounded out to chunks, pooled, whatever the file's size.
    /// </summary>
    /// <returns>Bytes copied into <paramref name="destination"/>: less than its length only at the end of the file.</returns>
    /// <exception cref="FlashDataCorruptException"><paramref name="original"/>, when no good copy of the range exists.</exception>
    public int HealRange(FlashDataCorruptException original, string path, long offset, Span<byte> destination, bool current)
    {
        var p = failover.Active();
        var b = failover.Backup();
        if (b is null || b.Store!.Table.Sequence != p.Store!.Table.Sequence)
        {
            throw original;
        }

        string abs = ContextStore.Absolute(current ? p.Store.Current : p.Store.Alternate, path);
        long length;
        using (gates.Device())
        {
            length = LengthOrFail(p, abs);
            if (length < 0 || LengthOrFail(b, abs) != length)
            {
                throw original;
            }
        }

        if (offset >= length)
        {
            return 0;
        }

        var (start, end) = ChunkSpan(p.Store.FileSystem.ChunkSize, offset, destination.Length, length);
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)(end - start));
        try
        {
            var good = buffer.AsSpan(0, (int)(end - start));
            using (gates.Device())
            {
                if (ReadRangeOrFail(b, abs, start, good) != good.Length)
                {
                    throw original;
                }
            }

            RewriteRange(p, abs, start, good);
            events.Healed(p, abs);

            int count = (int)Math.Min(destination.Length, length - offset);
            good.Slice((int)(offset - start), count).CopyTo(destination);
            return count;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The chunks of a file of <paramref name="length"/> bytes that hold [offset, offset + count): [start, end) is read
    /// from the good copy and rewritten on the damaged one. Only whole chunks are rewritten (a write of part of a chunk
    /// would read the rest of it from the damaged copy); the file's partial last chunk counts as whole, since a write
    /// from its start to the file's end replaces every byte it holds without reading it.
    /// </summary>
    internal static (long Start, long End) ChunkSpan(int chunk, long offset, int count, long length)
    {
        long start = offset / chunk * chunk;
        long end = Math.Min(length, (offset + count + chunk - 1) / chunk * chunk);
        return (start, end);
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

    /// <summary>The length of a file on <paramref name="m"/>, or -1 when absent or the device failed (it is then out of service). Caller holds the device lock.</summary>
    private long LengthOrFail(PairMember m, string abs)
    {
        try
        {
            var fs = m.Store!.FileSystem;
            return fs.Exists(abs) ? fs.GetEntry(abs).Length : -1;
        }
        catch (Exception ex) when (PairFailover.IsDeviceFailure(ex))
        {
            failover.Fail(m, ex);
            return -1;
        }
    }

    /// <summary>Bytes of a file on <paramref name="m"/> read into <paramref name="destination"/>, or -1 when unreadable (a device failure takes it out of service). Caller holds the device lock.</summary>
    private int ReadRangeOrFail(PairMember m, string abs, long offset, Span<byte> destination)
    {
        try
        {
            return FileRanges.Read(m.Store!.FileSystem, abs, offset, destination);
        }
        catch (Exception ex) when (ex is FlashDataCorruptException || PairFailover.IsDeviceFailure(ex))
        {
            if (PairFailover.IsDeviceFailure(ex))
            {
                failover.Fail(m, ex);
            }

            return -1;
        }
    }

    /// <summary>Writes whole chunks of a file again on <paramref name="m"/> in one transaction; a device failure takes it out of service.</summary>
    private void RewriteRange(PairMember m, string abs, long offset, ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        using (gates.Device())
        {
            try
            {
                using var txn = m.Store!.FileSystem.BeginTransaction();
                txn.WriteAt(abs, offset, data);
                txn.Commit();
            }
            catch (Exception ex) when (PairFailover.IsDeviceFailure(ex))
            {
                failover.Fail(m, ex);
            }
        }
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

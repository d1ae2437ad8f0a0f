using Flash.Drivers;
using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>
/// Which device serves the pair, and what happens when one fails: owns the two members, the designation in effect
/// (pair id, primary, generation) and the devices' open stores. A failed primary hands over to the survivor, which is
/// designated primary on flash; a diverged secondary is marked for resync.
/// </summary>
/// <remarks>Every device access goes through <see cref="Serve{T}"/> or <see cref="Step"/> (or the caller holds the
/// device lock itself), so a device failure anywhere takes that device out of service instead of propagating.</remarks>
internal sealed class PairFailover(PairMember a, PairMember b, PairGates gates, PairEvents events)
{
    private readonly PairMember[] _members = [a, b];
    private PairMember _primary = a;
    private bool _closed;

    /// <summary>Both devices, in the order they were mounted.</summary>
    public IReadOnlyList<PairMember> Members => _members;

    /// <summary>The designated primary.</summary>
    public PairMember Primary => _primary;

    /// <summary>The pair id.</summary>
    public Guid PairId { get; set; }

    /// <summary>The generation of the designation in effect.</summary>
    public ulong Generation { get; private set; }

    /// <summary>Whether the pair runs on one device only (one failed, absent or dirty).</summary>
    public bool IsDegraded => !_members[0].Usable || !_members[1].Usable || _members[0].Dirty || _members[1].Dirty;

    /// <summary>Whether a device failure is what <paramref name="ex"/> says (rather than bad input or a corrupt file).</summary>
    public static bool IsDeviceFailure(Exception ex)
        => ex is FlashException or FlashUnmountedException or FileSystemCorruptException or ObjectDisposedException;

    /// <summary>The other member.</summary>
    public PairMember Other(PairMember m) => ReferenceEquals(m, _members[0]) ? _members[1] : _members[0];

    /// <summary>The index of a member in <see cref="Members"/>.</summary>
    public int IndexOf(PairMember m) => ReferenceEquals(m, _members[0]) ? 0 : 1;

    /// <summary>The device that serves the pair: the primary (after a primary failure, the survivor is primary).</summary>
    /// <exception cref="PairUnavailableException">No device is in service.</exception>
    /// <exception cref="ObjectDisposedException">The pair was closed.</exception>
    public PairMember Active()
    {
        ObjectDisposedException.ThrowIf(_closed, typeof(RedundantPair));
        if (_primary.Usable && !_primary.Dirty)
        {
            return _primary;
        }

        throw new PairUnavailableException("No device of the pair is in service.");
    }

    /// <summary>The secondary when it is in service and in step, otherwise null.</summary>
    public PairMember? Backup()
    {
        var s = Other(_primary);
        return s.Usable && !s.Dirty ? s : null;
    }

    /// <summary>Puts <paramref name="member"/> in place of the member at <paramref name="index"/>.</summary>
    public void Replace(int index, PairMember member) => _members[index] = member;

    /// <summary>Sets the designation found (or decided) at mount, without announcing it.</summary>
    public void Adopt(PairMember primary, ulong generation)
    {
        _primary = primary;
        primary.Role = PairRole.Primary;
        Other(primary).Role = PairRole.Secondary;
        Generation = generation;
    }

    /// <summary>Sets the designation and announces a change.</summary>
    public void SetPrimary(PairMember primary, ulong generation)
    {
        bool changed = !ReferenceEquals(primary, _primary) || generation != Generation;
        Adopt(primary, generation);
        if (changed)
        {
            events.Designated(primary, generation);
        }
    }

    /// <summary>The designation record <paramref name="m"/> should carry now.</summary>
    public DesignationRecord RecordFor(PairMember m) => new(PairId, m.DeviceId, _primary.DeviceId, Generation);

    /// <summary>Writes the designation in effect on <paramref name="m"/> (caller holds the device lock).</summary>
    public void WriteDesignation(PairMember m) => PairMetadataStore.WriteDesignation(m.Store!.FileSystem, RecordFor(m));

    /// <summary>
    /// Swaps the designations: the record naming the secondary as primary, with the next generation, is written on the
    /// primary, then on the secondary (the highest valid generation wins after a power cut). Caller holds the alternate gate.
    /// </summary>
    /// <returns>The new primary.</returns>
    /// <exception cref="PairDegradedException">A device is, or goes, out of service.</exception>
    public PairMember Redesignate()
    {
        var p = Active();
        var s = Backup() ?? throw new PairDegradedException("Re-designation needs both devices in service.");
        ulong gen = Generation + 1;
        var record = new DesignationRecord(PairId, p.DeviceId, s.DeviceId, gen);
        Step(p, () => PairMetadataStore.WriteDesignation(p.Store!.FileSystem, record));
        if (p.IsFailed)
        {
            throw new PairDegradedException("The primary failed during re-designation.");
        }

        Step(s, () => PairMetadataStore.WriteDesignation(s.Store!.FileSystem, record with { DeviceId = s.DeviceId }));
        if (s.IsFailed)
        {
            throw new PairDegradedException("The secondary failed during re-designation.");
        }

        SetPrimary(s, gen);
        return s;
    }

    /// <summary>
    /// Takes a device out of service; when it was primary the survivor is designated primary (recorded on the
    /// survivor). Caller holds the device lock or runs alone.
    /// </summary>
    public void Fail(PairMember m, Exception ex)
    {
        if (m.IsFailed)
        {
            return;
        }

        m.IsFailed = true;
        m.FailureReason = ex.Message;
        events.Log.LogError(MirrorEvents.DeviceFailed, ex, "Device {DeviceId} ({Role}) failed; pair degraded", m.DeviceId, m.Role);
        var survivor = Other(m);
        if (ReferenceEquals(m, _primary) && survivor.Usable && !survivor.Dirty)
        {
            SetPrimary(survivor, Generation + 1);
            try
            {
                WriteDesignation(survivor);
            }
            catch (Exception wex) when (IsDeviceFailure(wex))
            {
                survivor.IsFailed = true;
                survivor.FailureReason = wex.Message;
                events.Log.LogError(MirrorEvents.DeviceFailed, wex, "Device {DeviceId} failed too; pair unavailable", survivor.DeviceId);
            }
        }

        events.Health(m.DeviceId, true, ex.Message);
    }

    /// <summary>The secondary could not repeat a change the primary made: it is marked for resynchronisation (on flash too, when possible). Caller holds the device lock.</summary>
    public void Diverged(PairMember b, Exception ex)
    {
        b.Dirty = true;
        try
        {
            PairMetadataStore.MarkForResync(b.Store!.FileSystem);
        }
        catch (Exception wex) when (IsDeviceFailure(wex) || wex is FlashFileSystemException)
        {
            Fail(b, wex);
            return;
        }

        events.Log.LogError(MirrorEvents.DeviceFailed, ex, "Device {DeviceId} could not repeat the change; it needs resynchronisation", b.DeviceId);
        events.Health(b.DeviceId, true, ex.Message);
    }

    /// <summary>Reads from the serving device under the device lock; when it fails, from the survivor.</summary>
    public T Serve<T>(Func<ContextStore, T> read)
    {
        while (true)
        {
            using (gates.Device())
            {
                var p = Active();
                try
                {
                    return read(p.Store!);
                }
                catch (Exception ex) when (IsDeviceFailure(ex))
                {
                    Fail(p, ex);
                }
            }
        }
    }

    /// <summary>
    /// Reads bytes of a current-context file (or, with <paramref name="alternate"/>, an alternate-context file) from the
    /// serving device into <paramref name="destination"/> (the span twin of <see cref="Serve{T}"/>, which a span cannot
    /// be captured by); when the device fails, from the survivor.
    /// </summary>
    /// <returns>Bytes read: less than the destination's length only at the end of the file.</returns>
    public int ServeRange(string path, long offset, Span<byte> destination, bool alternate = false, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            using (gates.Device(cancellationToken))
            {
                var p = Active();
                try
                {
                    var store = p.Store!;
                    return FileRanges.Read(store.FileSystem, ContextStore.Absolute(alternate ? store.Alternate : store.Current, path), offset, destination);
                }
                catch (Exception ex) when (IsDeviceFailure(ex))
                {
                    Fail(p, ex);
                }
            }
        }
    }

    /// <summary>Runs one access on one device under the device lock; a device failure takes it out of service instead of propagating.</summary>
    public void Step(PairMember m, Action access)
    {
        using (gates.Device())
        {
            try
            {
                access();
            }
            catch (Exception ex) when (IsDeviceFailure(ex))
            {
                Fail(m, ex);
            }
        }
    }

    /// <summary>Reads a file on one member: null when it is out of service, the file is absent or unreadable; a device failure takes it out of service. Caller holds the device lock.</summary>
    public byte[]? TryRead(PairMember m, string absolutePath)
    {
        if (!m.Usable)
        {
            return null;
        }

        try
        {
            return m.Store!.FileSystem.Exists(absolutePath) ? m.Store.FileSystem.ReadAllBytes(absolutePath) : null;
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

    /// <summary>Unmounts both devices (writing their checkpoints); the pair is closed afterwards. Caller holds the gates.</summary>
    public void CloseAll()
    {
        _closed = true;
        foreach (var m in _members)
        {
            CloseStore(m);
        }
    }

    /// <summary>Unmounts a device's store; a failed device cannot write its checkpoint (its log is replayed at the next mount).</summary>
    public static void CloseStore(PairMember m)
    {
        var store = m.Store;
        m.Store = null;
        if (store is null)
        {
            return;
        }

        try
        {
            store.Unmount();
        }
        catch (Exception ex) when (ex is FlashException or FlashFileSystemException or ObjectDisposedException)
        {
            // A failed device cannot write its checkpoint; the next mount replays its log.
        }
    }
}

using Flash.Drivers;
using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Ffs.Mirror;

/// <summary>
/// Two redundant devices that mirror each other's contexts. One is primary (serves reads, receives every change
/// first), the other secondary (receives the same change, with the same transaction id, as its backup). The
/// designation is stored on both devices and can be changed (<see cref="RedesignateAsync"/>).
/// </summary>
/// <remarks>
/// <para>Access coordination: the two devices are never accessed at the same time. Three semaphores admit work:
/// the read gate admits reads of the current context, the alternate gate admits access to the alternate context
/// (writes, reads, table changes; held across both phases of a mirrored transaction) and the context gate lets only
/// one context (one device) be accessed at a time. Reads of the current context interleave with the backup phase of a
/// transaction, while further alternate access waits. Waits are FIFO-ish and honour a <see cref="CancellationToken"/>.</para>
/// <para>Every change is committed on each device together with its sequence number (the transaction id) in one
/// atomic file-system transaction, so at mount the device that is behind is found and brought up to date.</para>
/// </remarks>
public sealed partial class RedundantPair : IAsyncDisposable, IDisposable
{
    private const string SyncMarker = "/system/sync";

    private readonly SemaphoreSlim _readGate;
    private readonly SemaphoreSlim _alternateGate = new(1, 1);
    private readonly SemaphoreSlim _contextGate = new(1, 1);
    private readonly RedundantPairOptions _options;
    private readonly ILogger _log;
    private readonly PairMember[] _members;
    private PairMember _primary;
    private Guid _pairId;
    private ulong _designationGeneration;
    private bool _disposed;

    private RedundantPair(PairMember a, PairMember b, RedundantPairOptions options)
    {
        _options = options;
        _log = options.Logger ?? (ILogger?)options.LoggerFactory?.CreateLogger<RedundantPair>() ?? NullLogger.Instance;
        _readGate = new SemaphoreSlim(Math.Max(1, options.MaxConcurrentReads));
        _members = [a, b];
        _primary = a;
    }

    /// <summary>A step of a mirrored transaction: started, completed on the primary, backed up on the secondary, completed or failed.</summary>
    public event EventHandler<MirrorTransactionEventArgs>? TransactionChanged;

    /// <summary>A device failed (the pair is degraded) or a device rejoined (redundancy restored).</summary>
    public event EventHandler<PairHealthEventArgs>? HealthChanged;

    /// <summary>A file was repaired on one device from the other.</summary>
    public event EventHandler<SelfHealEventArgs>? SelfHealed;

    /// <summary>The primary/secondary designation changed.</summary>
    public event EventHandler<PairDesignationEventArgs>? Redesignated;

    /// <summary>The pair id written at format.</summary>
    public Guid PairId => _pairId;

    /// <summary>The generation of the designation record in effect.</summary>
    public ulong DesignationGeneration => _designationGeneration;

    /// <summary>The primary device.</summary>
    public PairMember Primary => _primary;

    /// <summary>The secondary device.</summary>
    public PairMember Secondary => Other(_primary);

    /// <summary>Both devices, in the order they were given to <see cref="MountAsync"/>.</summary>
    public IReadOnlyList<PairMember> Members => _members;

    /// <summary>Whether the pair runs on one device only.</summary>
    public bool IsDegraded => !_members[0].Usable || !_members[1].Usable || _members[0].Dirty || _members[1].Dirty;

    /// <summary>The context table of the primary.</summary>
    public ContextTable Table => Active().Store!.Table;

    /// <summary>The sequence number (last transaction id) committed on the primary.</summary>
    public ulong Sequence => Table.Sequence;

    /// <summary>Formats both devices as a new pair (every byte on them is lost): a fresh file system, an empty context layout and designation records naming <paramref name="primary"/> as primary.</summary>
    /// <param name="primary">The device to be primary.</param>
    /// <param name="secondary">The device to be secondary.</param>
    /// <param name="pairId">The pair id; a random one when null.</param>
    /// <param name="cancellationToken">Cancels before anything is written.</param>
    /// <returns>The pair id.</returns>
    /// <exception cref="DeviceGeometryMismatchException">The geometries differ.</exception>
    public static Task<Guid> FormatAsync(IFlashDevice primary, IFlashDevice secondary, Guid? pairId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(secondary);
        CheckGeometry(primary, secondary);
        cancellationToken.ThrowIfCancellationRequested();
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
                fs.WriteAllBytes(DesignationRecord.Path, new DesignationRecord(id, own, primaryId, 1).Encode());
            }
            finally
            {
                fs.Unmount();
            }
        }

        return Task.FromResult(id);
    }

    /// <summary>
    /// Mounts a pair and reconciles it: the designation with the highest generation wins; a device that is behind
    /// (missed changes, interrupted resync, damaged table) is brought up to date from the newer one, a blank device gets
    /// a full copy, a failed device leaves the pair degraded.
    /// </summary>
    /// <param name="deviceA">One device.</param>
    /// <param name="deviceB">The other device.</param>
    /// <param name="options">Logging, progress and limits.</param>
    /// <param name="cancellationToken">Cancels the reconciliation between files (an interrupted copy is redone at the next mount).</param>
    /// <returns>The mounted pair.</returns>
    /// <exception cref="DeviceGeometryMismatchException">The geometries differ.</exception>
    /// <exception cref="PairMismatchException">The devices belong to different pairs.</exception>
    /// <exception cref="PairNotFormattedException">Neither device carries a pair.</exception>
    /// <exception cref="PairUnavailableException">Neither device can be used.</exception>
    /// <exception cref="ContextTableCorruptException">No device has a valid context table.</exception>
    public static async Task<RedundantPair> MountAsync(IFlashDevice deviceA, IFlashDevice deviceB, RedundantPairOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deviceA);
        ArgumentNullException.ThrowIfNull(deviceB);
        if (ReferenceEquals(deviceA, deviceB))
        {
            throw new ArgumentException("The two devices of a pair must be different objects.", nameof(deviceB));
        }

        CheckGeometry(deviceA, deviceB);
        var pair = new RedundantPair(new PairMember(deviceA), new PairMember(deviceB), options ?? new RedundantPairOptions());
        FfsMetrics.TrackPair(pair);
        try
        {
            await pair.ReconcileAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            pair.CloseAll();
            throw;
        }

        return pair;
    }

    /// <summary>Unmounts both devices (writing their checkpoints) after the running operations finished.</summary>
    /// <returns>A task that completes when both are unmounted.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        await _alternateGate.WaitAsync().ConfigureAwait(false);
        await _contextGate.WaitAsync().ConfigureAwait(false);
        try
        {
            CloseAll();
        }
        finally
        {
            _contextGate.Release();
            _alternateGate.Release();
        }
    }

    /// <summary>Unmounts both devices.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static void CheckGeometry(IFlashDevice a, IFlashDevice b)
    {
        if (a.Geometry != b.Geometry)
        {
            throw new DeviceGeometryMismatchException($"The devices differ in geometry: {a.Geometry} versus {b.Geometry}.");
        }
    }

    private void CloseAll()
    {
        _disposed = true;
        foreach (var m in _members)
        {
            CloseStore(m);
        }
    }

    private static void CloseStore(PairMember m)
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

    private PairMember Other(PairMember m) => ReferenceEquals(m, _members[0]) ? _members[1] : _members[0];

    /// <summary>The device that serves the pair: the primary, or after a primary failure the survivor (which is then designated primary).</summary>
    private PairMember Active()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_primary.Usable && !_primary.Dirty)
        {
            return _primary;
        }

        throw new PairUnavailableException("No device of the pair is in service.");
    }

    private PairMember? Backup()
    {
        var s = Other(_primary);
        return s.Usable && !s.Dirty ? s : null;
    }

    private static bool IsDeviceFailure(Exception ex)
        => ex is FlashException or FlashUnmountedException or FileSystemCorruptException or ObjectDisposedException;

    /// <summary>Takes a device out of service; when it was primary the survivor is designated primary (recorded on the survivor). Caller holds the context gate or runs alone.</summary>
    private void Fail(PairMember m, Exception ex)
    {
        if (m.IsFailed)
        {
            return;
        }

        m.IsFailed = true;
        m.FailureReason = ex.Message;
        _log.LogError(MirrorEvents.DeviceFailed, ex, "Device {DeviceId} ({Role}) failed; pair degraded", m.DeviceId, m.Role);
        var survivor = Other(m);
        if (ReferenceEquals(m, _primary) && survivor.Usable && !survivor.Dirty)
        {
            SetPrimary(survivor, _designationGeneration + 1);
            try
            {
                WriteDesignation(survivor);
            }
            catch (Exception wex) when (IsDeviceFailure(wex))
            {
                survivor.IsFailed = true;
                survivor.FailureReason = wex.Message;
                _log.LogError(MirrorEvents.DeviceFailed, wex, "Device {DeviceId} failed too; pair unavailable", survivor.DeviceId);
            }
        }

        HealthChanged?.Invoke(this, new PairHealthEventArgs(m.DeviceId, true, ex.Message));
    }

    private void SetPrimary(PairMember primary, ulong generation)
    {
        bool changed = !ReferenceEquals(primary, _primary) || generation != _designationGeneration;
        _primary = primary;
        primary.Role = PairRole.Primary;
        Other(primary).Role = PairRole.Secondary;
        _designationGeneration = generation;
        if (changed)
        {
            _log.LogInformation(MirrorEvents.Redesignated, "Device {DeviceId} is primary (designation generation {Generation})", primary.DeviceId, generation);
            Redesignated?.Invoke(this, new PairDesignationEventArgs(primary.DeviceId, generation));
        }
    }

    private void WriteDesignation(PairMember m)
        => m.Store!.FileSystem.WriteAllBytes(DesignationRecord.Path, new DesignationRecord(_pairId, m.DeviceId, _primary.DeviceId, _designationGeneration).Encode());

    private void RaiseTransaction(ulong id, string op, MirrorTransactionPhase phase, Exception? ex = null)
    {
        if (phase == MirrorTransactionPhase.Failed)
        {
            _log.LogWarning(MirrorEvents.TransactionFailed, ex, "Transaction {TransactionId} {Operation} failed", id, op);
        }
        else
        {
            _log.LogDebug(MirrorEvents.Transaction, "Transaction {TransactionId} {Operation}: {Phase}", id, op, phase);
        }

        TransactionChanged?.Invoke(this, new MirrorTransactionEventArgs(id, op, phase, ex));
    }

    /// <summary>Runs one device access under the context gate (the two devices are never accessed at once).</summary>
    private async Task<T> OnDeviceAsync<T>(Func<T> access, CancellationToken cancellationToken)
    {
        await _contextGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return access();
        }
        finally
        {
            _contextGate.Release();
        }
    }
}

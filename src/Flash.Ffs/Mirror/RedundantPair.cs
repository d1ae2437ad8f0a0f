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
/// <para>A thin coordinator: it admits work through the pair's gates (<c>PairGates</c>: read slots, the alternate gate,
/// the restriction of claim 37, the device lock) and hands it to the part that does it (the mirror protocol, caller-held
/// transactions, self-heal, resync, mount and failover). See docs/architecture.md, "The redundant pair".</para>
/// <para>Access coordination: the two devices are never accessed at the same time. Reads of the current context
/// interleave with the backup phase of a transaction, while further alternate access waits. Waits are FIFO-ish and
/// honour a <see cref="CancellationToken"/>.</para>
/// <para>Sync and async: the work is synchronous device access. Every method that waits at a gate comes as a real
/// asynchronous method (it awaits the gate, then runs the work) and its synchronous twin of the same name without
/// <c>Async</c> (it blocks at the gate); both run the same core. Members that wait at no gate (<see cref="Format"/>,
/// <see cref="Mount"/>, and on <see cref="PairTransaction"/> every step but the primary commit) are synchronous only.</para>
/// <para>Every change is committed on each device together with its sequence number (the transaction id) in one
/// atomic file-system transaction, so at mount the device that is behind is found and brought up to date.</para>
/// </remarks>
public sealed partial class RedundantPair : IAsyncDisposable, IDisposable
{
    private readonly PairGates _gates;
    private readonly PairEvents _events;
    private readonly PairFailover _failover;
    private readonly MirrorProtocol _protocol;
    private readonly MirrorTransactions _transactions;
    private readonly PairHealer _healer;
    private readonly PairResync _resync;
    private readonly PairMount _mount;
    private bool _disposed;

    private RedundantPair(PairMember a, PairMember b, RedundantPairOptions options)
    {
        var log = options.Logger ?? (ILogger?)options.LoggerFactory?.CreateLogger<RedundantPair>() ?? NullLogger.Instance;
        _gates = new PairGates(options.MaxConcurrentReads, log);
        _events = new PairEvents(this, log);
        _failover = new PairFailover(a, b, _gates, _events);
        _protocol = new MirrorProtocol(_failover, _gates, _events);
        _transactions = new MirrorTransactions(_protocol, _failover, _gates, _events, new SliceBuffers());
        _healer = new PairHealer(_failover, _gates, _events);
        _resync = new PairResync(_failover, _gates, _events, options);
        _mount = new PairMount(_failover, _gates, _events, _resync, options);
    }

    /// <summary>A step of a mirrored transaction: started, completed on the primary, backed up on the secondary, completed or failed.</summary>
    public event EventHandler<MirrorTransactionEventArgs>? TransactionChanged
    {
        add => _events.TransactionChanged += value;
        remove => _events.TransactionChanged -= value;
    }

    /// <summary>A device failed (the pair is degraded) or a device rejoined (redundancy restored).</summary>
    public event EventHandler<PairHealthEventArgs>? HealthChanged
    {
        add => _events.HealthChanged += value;
        remove => _events.HealthChanged -= value;
    }

    /// <summary>A file was repaired on one device from the other.</summary>
    public event EventHandler<SelfHealEventArgs>? SelfHealed
    {
        add => _events.SelfHealed += value;
        remove => _events.SelfHealed -= value;
    }

    /// <summary>The primary/secondary designation changed.</summary>
    public event EventHandler<PairDesignationEventArgs>? Redesignated
    {
        add => _events.Redesignated += value;
        remove => _events.Redesignated -= value;
    }

    /// <summary>The pair id written at format.</summary>
    public Guid PairId => _failover.PairId;

    /// <summary>The generation of the designation record in effect.</summary>
    public ulong DesignationGeneration => _failover.Generation;

    /// <summary>The primary device.</summary>
    public PairMember Primary => _failover.Primary;

    /// <summary>The secondary device.</summary>
    public PairMember Secondary => _failover.Other(_failover.Primary);

    /// <summary>Both devices, in the order they were given to <see cref="Mount"/>.</summary>
    public IReadOnlyList<PairMember> Members => _failover.Members;

    /// <summary>Whether the pair runs on one device only.</summary>
    public bool IsDegraded => _failover.IsDegraded;

    /// <summary>The context table of the primary.</summary>
    public ContextTable Table => _failover.Active().Store!.Table;

    /// <summary>The sequence number (last transaction id) committed on the primary.</summary>
    public ulong Sequence => Table.Sequence;

    /// <summary>Formats both devices as a new pair (every byte on them is lost): a fresh file system, an empty context layout and designation records naming <paramref name="primary"/> as primary.</summary>
    /// <param name="primary">The device to be primary.</param>
    /// <param name="secondary">The device to be secondary.</param>
    /// <param name="pairId">The pair id; a random one when null.</param>
    /// <param name="cancellationToken">Cancels before anything is written.</param>
    /// <returns>The pair id.</returns>
    /// <exception cref="DeviceGeometryMismatchException">The geometries differ.</exception>
    public static Guid Format(IFlashDevice primary, IFlashDevice secondary, Guid? pairId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(primary);
        ArgumentNullException.ThrowIfNull(secondary);
        CheckGeometry(primary, secondary);
        cancellationToken.ThrowIfCancellationRequested();
        return PairMount.Format(primary, secondary, pairId);
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
    public static RedundantPair Mount(IFlashDevice deviceA, IFlashDevice deviceB, RedundantPairOptions? options = null, CancellationToken cancellationToken = default)
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
            pair._mount.Reconcile(cancellationToken);
        }
        catch
        {
            pair.Close();
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

        await _gates.EnterAlternateAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            Close();
        }
        finally
        {
            _gates.ExitAlternate();
        }
    }

    /// <summary>Unmounts both devices (writing their checkpoints) after the running operations finished.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _gates.EnterAlternate(CancellationToken.None);
        try
        {
            Close();
        }
        finally
        {
            _gates.ExitAlternate();
        }
    }

    internal static void CheckGeometry(IFlashDevice a, IFlashDevice b)
    {
        if (a.Geometry != b.Geometry)
        {
            throw new DeviceGeometryMismatchException($"The devices differ in geometry: {a.Geometry} versus {b.Geometry}.");
        }
    }

    private void Close()
    {
        _disposed = true;
        using (_gates.Device())
        {
            _failover.CloseAll();
        }
    }
}

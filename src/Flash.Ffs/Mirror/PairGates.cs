using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>
/// Everything that admits work to a pair, and nothing else: the read slots (reads of the current context, several at
/// once), the alternate gate (alternate access and every change, one at a time, held across both phases of a mirrored
/// transaction), the restriction of the primary during a backup (claim 37, with its bounded wait) and the device lock
/// (the two devices are never accessed at once).
/// </summary>
/// <remarks>
/// <para>Each gate comes as an asynchronous wait and its synchronous twin; both honour a <see cref="CancellationToken"/>.
/// The device lock is held only around synchronous device work, never across a wait, so it is a plain
/// <see cref="Lock"/> entered synchronously by both twins.</para>
/// <para>Ordering, to stay free of deadlock: alternate gate, then read slots (only a restricting backup takes slots while
/// holding the alternate gate), then the device lock. A reader that needs the alternate gate (a repair) gives its slot
/// back first.</para>
/// </remarks>
internal sealed class PairGates : IDisposable
{
    private readonly SemaphoreSlim _readSlots;
    private readonly SemaphoreSlim _alternate = new(1, 1);
    private readonly Lock _device = new();
    private readonly PrimaryRestriction _restriction = new();
    private readonly ILogger _log;

    /// <summary>Creates the gates.</summary>
    /// <param name="readSlots">Reads of the current context admitted at once (at least one).</param>
    /// <param name="log">Where the restriction is logged.</param>
    public PairGates(int readSlots, ILogger log)
    {
        ReadSlots = Math.Max(1, readSlots);
        _readSlots = new SemaphoreSlim(ReadSlots, ReadSlots);
        _log = log;
    }

    /// <summary>How many reads are admitted at once.</summary>
    public int ReadSlots { get; }

    /// <summary>Whether a backup restricts the primary now.</summary>
    public bool IsRestricted => _restriction.IsRestricted;

    /// <summary>Admits a read of the primary: past the restriction of a backup (bounded wait), then into a read slot.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the read holds a slot; release it with <see cref="ExitRead"/>.</returns>
    /// <exception cref="PrimaryRestrictedException">The restriction outlasted its bound.</exception>
    public async Task EnterReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _restriction.PassAsync(cancellationToken).ConfigureAwait(false);
            await _readSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!_restriction.IsRestricted)
            {
                return;
            }

            // A backup closed the door while this read waited for its slot: give the slot back and wait at the door.
            _readSlots.Release();
        }
    }

    /// <summary>The synchronous twin of <see cref="EnterReadAsync"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="PrimaryRestrictedException">The restriction outlasted its bound.</exception>
    public void EnterRead(CancellationToken cancellationToken)
    {
        while (true)
        {
            _restriction.Pass(cancellationToken);
            _readSlots.Wait(cancellationToken);
            if (!_restriction.IsRestricted)
            {
                return;
            }

            _readSlots.Release();
        }
    }

    /// <summary>Gives a read slot back.</summary>
    public void ExitRead() => _readSlots.Release();

    /// <summary>Takes the alternate gate.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the gate is held; release it with <see cref="ExitAlternate"/>.</returns>
    public Task EnterAlternateAsync(CancellationToken cancellationToken) => _alternate.WaitAsync(cancellationToken);

    /// <summary>The synchronous twin of <see cref="EnterAlternateAsync"/>.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    public void EnterAlternate(CancellationToken cancellationToken) => _alternate.Wait(cancellationToken);

    /// <summary>Releases the alternate gate.</summary>
    public void ExitAlternate() => _alternate.Release();

    /// <summary>
    /// Restricts the primary for the backup of transaction <paramref name="transactionId"/> (caller holds the alternate
    /// gate): closes the door to new readers, then waits for the reads already admitted by taking every slot. Readers
    /// at the door wait at most <paramref name="bound"/>.
    /// </summary>
    /// <param name="transactionId">The transaction backed up.</param>
    /// <param name="bound">How long a reader may wait at the door.</param>
    /// <returns>A task that completes when no read runs; undo with <see cref="Unrestrict"/>.</returns>
    public async Task RestrictAsync(ulong transactionId, TimeSpan bound)
    {
        _restriction.Close(transactionId, bound);
        for (int i = 0; i < ReadSlots; i++)
        {
            await _readSlots.WaitAsync().ConfigureAwait(false);
        }

        _log.LogDebug(MirrorEvents.PrimaryRestricted, "Transaction {TransactionId}: primary restricted during the backup", transactionId);
    }

    /// <summary>The synchronous twin of <see cref="RestrictAsync"/>.</summary>
    /// <param name="transactionId">The transaction backed up.</param>
    /// <param name="bound">How long a reader may wait at the door.</param>
    public void Restrict(ulong transactionId, TimeSpan bound)
    {
        _restriction.Close(transactionId, bound);
        for (int i = 0; i < ReadSlots; i++)
        {
            _readSlots.Wait();
        }

        _log.LogDebug(MirrorEvents.PrimaryRestricted, "Transaction {TransactionId}: primary restricted during the backup", transactionId);
    }

    /// <summary>Ends a restriction: gives the slots back and opens the door.</summary>
    /// <param name="transactionId">The transaction backed up.</param>
    public void Unrestrict(ulong transactionId)
    {
        _readSlots.Release(ReadSlots);
        _restriction.Open();
        _log.LogDebug(MirrorEvents.PrimaryRestricted, "Transaction {TransactionId}: primary released", transactionId);
    }

    /// <summary>Enters the device lock for one synchronous access to one device: <c>using (gates.Device()) { ... }</c>.</summary>
    /// <returns>The scope to dispose.</returns>
    public Lock.Scope Device() => _device.EnterScope();

    /// <summary>Enters the device lock unless <paramref name="cancellationToken"/> is already cancelled (the device work itself is not cancellable).</summary>
    /// <param name="cancellationToken">Checked before the lock is taken.</param>
    /// <returns>The scope to dispose.</returns>
    public Lock.Scope Device(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return _device.EnterScope();
    }

    /// <summary>Releases the semaphores.</summary>
    public void Dispose()
    {
        _readSlots.Dispose();
        _alternate.Dispose();
    }
}

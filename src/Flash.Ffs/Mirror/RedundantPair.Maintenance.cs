using Flash.Drivers;

namespace Flash.Ffs.Mirror;

/// <summary>Device replacement, resynchronisation, scrubbing and explicit heal, each under the alternate gate.</summary>
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
    public Task ReplaceDeviceAsync(IFlashDevice device, bool overwriteForeign = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        return UnderAlternateAsync(() => ReplaceCore(device, overwriteForeign, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Puts a device in place of the secondary (or of the failed device) and gives it the pair's content: a device that
    /// was a member before is brought up to date, a blank one (or a foreign one when allowed) is formatted and gets a full copy.
    /// Reads of the current context go on meanwhile; changes wait.
    /// </summary>
    /// <param name="device">The new device (may be the same object as the failed one after it was repaired).</param>
    /// <param name="overwriteForeign">Whether a device of another pair may be formatted.</param>
    /// <param name="cancellationToken">Cancels between files; the device then stays marked for resynchronisation.</param>
    /// <exception cref="DeviceGeometryMismatchException">The geometry differs from the primary's.</exception>
    /// <exception cref="PairMismatchException">The device belongs to another pair and <paramref name="overwriteForeign"/> is false.</exception>
    public void ReplaceDevice(IFlashDevice device, bool overwriteForeign = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        UnderAlternate(() => ReplaceCore(device, overwriteForeign, cancellationToken), cancellationToken);
    }

    /// <summary>Brings a secondary that is marked for resynchronisation up to date from the primary (nothing to do when the pair is in sync).</summary>
    /// <param name="cancellationToken">Cancels between files.</param>
    /// <returns>Whether anything was copied.</returns>
    public Task<bool> ResynchronizeAsync(CancellationToken cancellationToken = default)
        => UnderAlternateAsync(() => ResynchronizeCore(cancellationToken), cancellationToken);

    /// <summary>Brings a secondary that is marked for resynchronisation up to date from the primary (nothing to do when the pair is in sync).</summary>
    /// <param name="cancellationToken">Cancels between files.</param>
    /// <returns>Whether anything was copied.</returns>
    public bool Resynchronize(CancellationToken cancellationToken = default)
        => UnderAlternate(() => ResynchronizeCore(cancellationToken), cancellationToken);

    /// <summary>Reads every file of both context areas and both table copies on both devices; a file unreadable on one side is repaired from the other, a file that differs is repaired on the secondary from the primary.</summary>
    /// <param name="cancellationToken">Cancels between files.</param>
    /// <returns>What was checked and repaired.</returns>
    /// <exception cref="PairDegradedException">A device is out of service.</exception>
    public Task<PairScrubReport> ScrubAsync(CancellationToken cancellationToken = default)
        => UnderAlternateAsync(() => _healer.Scrub(cancellationToken), cancellationToken);

    /// <summary>Reads every file of both context areas and both table copies on both devices; a file unreadable on one side is repaired from the other, a file that differs is repaired on the secondary from the primary.</summary>
    /// <param name="cancellationToken">Cancels between files.</param>
    /// <returns>What was checked and repaired.</returns>
    /// <exception cref="PairDegradedException">A device is out of service.</exception>
    public PairScrubReport Scrub(CancellationToken cancellationToken = default)
        => UnderAlternate(() => _healer.Scrub(cancellationToken), cancellationToken);

    /// <summary>
    /// Rewrites the primary's copy of a current-context file from the secondary's copy when <paramref name="accept"/>
    /// approves the secondary's content (e.g. it matches the digest a reader expected and the primary's copy did not).
    /// For corruption that passed the file system's checks; page-level corruption heals on every read already.
    /// </summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="accept">Decides whether the secondary's content is the right one.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>True when the primary was rewritten; false when the primary's copy is accepted as it is, or there is no usable secondary copy, or it was not accepted.</returns>
    public Task<bool> HealCurrentAsync(string path, Func<ReadOnlyMemory<byte>, bool> accept, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accept);

        // A repair, like ReadCurrentAsync's: under the alternate gate only, never holding a read slot while it waits
        // for that gate (a restricting backup holds the gate and drains the slots).
        return UnderAlternateAsync(() => _healer.HealCurrent(path, accept), cancellationToken);
    }

    /// <summary>
    /// Rewrites the primary's copy of a current-context file from the secondary's copy when <paramref name="accept"/>
    /// approves the secondary's content (e.g. it matches the digest a reader expected and the primary's copy did not).
    /// For corruption that passed the file system's checks; page-level corruption heals on every read already.
    /// </summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="accept">Decides whether the secondary's content is the right one.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>True when the primary was rewritten; false when the primary's copy is accepted as it is, or there is no usable secondary copy, or it was not accepted.</returns>
    public bool HealCurrent(string path, Func<ReadOnlyMemory<byte>, bool> accept, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accept);
        return UnderAlternate(() => _healer.HealCurrent(path, accept), cancellationToken);
    }

    private bool ReplaceCore(IFlashDevice device, bool overwriteForeign, CancellationToken cancellationToken)
    {
        _mount.Replace(device, overwriteForeign, cancellationToken);
        return true;
    }

    private bool ResynchronizeCore(CancellationToken cancellationToken)
    {
        var p = _failover.Active();
        var s = _failover.Other(p);
        if (!s.Usable || (!s.Dirty && s.Store!.Table == p.Store!.Table))
        {
            return false;
        }

        _resync.Sync(p, s, format: false, cancellationToken);
        return true;
    }
}

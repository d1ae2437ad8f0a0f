using Flash.Ffs.Check;
using Flash.Ffs.Index;
using Flash.Ffs.Recovery;

namespace Flash.Ffs;

/// <summary>fsck's public entry points: the lock, the fault policy and the mount report's acknowledgement around <see cref="VolumeChecker"/>.</summary>
public sealed partial class FlashFileSystem
{
    /// <summary>
    /// Checks the volume: reads and verifies (ECC, CRC, tag identity) every page the index points at, checks the tree
    /// (parents, names, mappings within file sizes, no page mapped twice) and the block bookkeeping.
    /// </summary>
    /// <param name="repair">
    /// Repair what can be repaired: mappings past a file's end or to unreadable pages are dropped (the file then reports
    /// the lost range as corrupt), bookkeeping is rebuilt, and the result is checkpointed.
    /// </param>
    /// <returns>Every problem found.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "The other overload takes an options object, not more parameters; Check() and Check(repair) stay as shipped.")]
    public FsckReport Check(bool repair = false) => CheckLocked(repair, CancellationToken.None);

    /// <summary>Checks the volume (see <see cref="Check(bool)"/>) with the options given, such as a cancellation token.</summary>
    /// <param name="options">Whether to repair, and what stops the check.</param>
    /// <returns>Every problem found.</returns>
    /// <remarks>The file system is synchronous (device I/O is): there is no asynchronous check; run this on a thread of your choosing.</remarks>
    public FsckReport Check(FsckOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Cancellation.ThrowIfCancellationRequested();
        return CheckLocked(options.Repair, options.Cancellation);
    }

    private FsckReport CheckLocked(bool repair, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            EnsureMounted();
            if (repair)
            {
                EnsureWritable();
                if (_txns.Open.Count > 0)
                {
                    throw new InvalidOperationException("Flush every open file before a repairing check.");
                }
            }

            return Guarded(() => CheckCore(repair, cancellationToken));
        }
    }

    private FsckReport CheckCore(bool repair, CancellationToken cancellationToken)
    {
        // A checkpoint in progress is finished first: its blocks then hold a complete checkpoint, and repairs change
        // entries after it rather than under it.
        if (!_options.ReadOnly && _faultReason is null)
        {
            _checkpoint.FinishPending();
        }

        // The mount's damage is reported until a repairing check acknowledges it.
        var mountDamage = _mountReport.FoundDamage && !_mountDamageRepaired ? _mountReport : null;
        if (mountDamage is not null)
        {
            _mountDamageRepaired = repair;
        }

        return new VolumeChecker(_index, _blocks, _io, _ppb, _options.Progress, _inline, _index.Lost, () => _checkpoint.Write(forUnmount: false)).Run(repair, mountDamage, cancellationToken);
    }
}

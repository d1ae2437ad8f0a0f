using Flash.Drivers;
using Flash.Ffs.Contexts;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Mirror;

/// <summary>Options of a <see cref="RedundantPair"/>.</summary>
public sealed class RedundantPairOptions
{
    /// <summary>Where transaction lifecycle, failures, resyncs and self-heals are logged; nothing is logged when null.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Options of the file systems of both devices; defaults when null (its logger, if any, is used for both).</summary>
    public FlashFileSystemOptions? FileSystem { get; init; }

    /// <summary>How many reads of the current context are admitted at once (they still reach the devices one at a time). Default 4.</summary>
    public int MaxConcurrentReads { get; init; } = 4;

    /// <summary>Receives the progress of full copies and resynchronisations.</summary>
    public IProgress<PairSyncProgress>? Progress { get; init; }

    /// <summary>
    /// At mount, a second device that carries another pair's data is formatted and joined as secondary instead of
    /// failing with <see cref="PairMismatchException"/>. Default false.
    /// </summary>
    public bool AdoptForeignDevice { get; init; }
}

/// <summary>The role a device currently has in a pair; designations are not permanent (see <see cref="RedundantPair.RedesignateAsync"/>).</summary>
public enum PairRole
{
    /// <summary>Serves reads and receives every change first.</summary>
    Primary = 0,

    /// <summary>Receives every change second, as the backup.</summary>
    Secondary = 1,
}

/// <summary>One device of a pair, as seen by the pair.</summary>
public sealed class PairMember
{
    internal PairMember(IFlashDevice device) => Device = device;

    /// <summary>The device.</summary>
    public IFlashDevice Device { get; }

    /// <summary>The identifier written on the device when it joined the pair.</summary>
    public Guid DeviceId { get; internal set; }

    /// <summary>Its current role.</summary>
    public PairRole Role { get; internal set; }

    /// <summary>Whether the device failed and is out of service until replaced or rejoined.</summary>
    public bool IsFailed { get; internal set; }

    /// <summary>Why the device failed, when it did.</summary>
    public string? FailureReason { get; internal set; }

    /// <summary>The context table last committed on the device, or null when it has none usable.</summary>
    public ContextTable? Table => Store?.Table;

    internal ContextStore? Store { get; set; }

    internal bool Dirty { get; set; }

    internal bool Usable => !IsFailed && Store is not null;

    /// <summary>A one-line description.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"{Role} {DeviceId:N}{(IsFailed ? " (failed)" : "")}";
}

/// <summary>Phases of a mirrored transaction.</summary>
public enum MirrorTransactionPhase
{
    /// <summary>The transaction got its id and was admitted.</summary>
    Started = 0,

    /// <summary>The operation completed on the primary.</summary>
    PrimaryCompleted = 1,

    /// <summary>The backup operation with the same id completed on the secondary.</summary>
    BackupCompleted = 2,

    /// <summary>The completion command ended the transaction.</summary>
    Completed = 3,

    /// <summary>The transaction failed; see the exception.</summary>
    Failed = 4,

    /// <summary>The backup was skipped because the pair is degraded.</summary>
    BackupSkipped = 5,

    /// <summary>A caller-held transaction was aborted before its primary part committed; neither device changed.</summary>
    Aborted = 6,
}

/// <summary>A step in a mirrored transaction's lifecycle.</summary>
/// <param name="TransactionId">The transaction id (also the device sequence number for changes).</param>
/// <param name="Operation">What the transaction does.</param>
/// <param name="Phase">The step reached.</param>
/// <param name="Exception">The failure, for <see cref="MirrorTransactionPhase.Failed"/>.</param>
public sealed record MirrorTransactionEventArgs(ulong TransactionId, string Operation, MirrorTransactionPhase Phase, Exception? Exception = null);

/// <summary>A device of the pair failed or the pair's redundancy changed.</summary>
/// <param name="DeviceId">The device concerned.</param>
/// <param name="IsDegraded">Whether the pair now runs on one device.</param>
/// <param name="Reason">What happened.</param>
public sealed record PairHealthEventArgs(Guid DeviceId, bool IsDegraded, string Reason);

/// <summary>A file that was unreadable or wrong on one device was repaired from the other.</summary>
/// <param name="DeviceId">The repaired device.</param>
/// <param name="Path">Absolute file-system path of the repaired file.</param>
public sealed record SelfHealEventArgs(Guid DeviceId, string Path);

/// <summary>The primary/secondary designation changed.</summary>
/// <param name="PrimaryId">The new primary.</param>
/// <param name="Generation">The designation generation.</param>
public sealed record PairDesignationEventArgs(Guid PrimaryId, ulong Generation);

/// <summary>Progress of copying one device to the other.</summary>
/// <param name="TargetId">The device being brought up to date.</param>
/// <param name="FilesDone">Files examined so far.</param>
/// <param name="FilesTotal">Files to examine.</param>
/// <param name="BytesCopied">Bytes written to the target so far.</param>
public readonly record struct PairSyncProgress(Guid TargetId, int FilesDone, int FilesTotal, long BytesCopied);

/// <summary>The outcome of <see cref="RedundantPair.ScrubAsync"/>.</summary>
/// <param name="FilesChecked">Files compared on both devices.</param>
/// <param name="FilesRepaired">Files rewritten on one device from the other.</param>
public readonly record struct PairScrubReport(int FilesChecked, int FilesRepaired);

/// <summary>Event ids of the mirror layer's log messages.</summary>
public static class MirrorEvents
{
    /// <summary>A pair was mounted.</summary>
    public static readonly EventId Mounted = new(2100, nameof(Mounted));

    /// <summary>A transaction step (started, primary done, backup done, completed).</summary>
    public static readonly EventId Transaction = new(2101, nameof(Transaction));

    /// <summary>A transaction failed.</summary>
    public static readonly EventId TransactionFailed = new(2102, nameof(TransactionFailed));

    /// <summary>A device failed; the pair is degraded.</summary>
    public static readonly EventId DeviceFailed = new(2110, nameof(DeviceFailed));

    /// <summary>A device was resynchronised.</summary>
    public static readonly EventId Resync = new(2111, nameof(Resync));

    /// <summary>The primary was older than the secondary at mount.</summary>
    public static readonly EventId PrimaryOlder = new(2112, nameof(PrimaryOlder));

    /// <summary>A file was repaired from the other device.</summary>
    public static readonly EventId SelfHeal = new(2113, nameof(SelfHeal));

    /// <summary>Primary and secondary were re-designated.</summary>
    public static readonly EventId Redesignated = new(2114, nameof(Redesignated));

    /// <summary>A device was replaced.</summary>
    public static readonly EventId Replaced = new(2115, nameof(Replaced));

    /// <summary>A file of a transaction read back from the primary for the backup did not verify.</summary>
    public static readonly EventId BackupVerification = new(2116, nameof(BackupVerification));

    /// <summary>Reads of the primary were restricted, or released, for a backup copy.</summary>
    public static readonly EventId PrimaryRestricted = new(2117, nameof(PrimaryRestricted));
}

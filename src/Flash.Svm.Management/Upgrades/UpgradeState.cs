using Flash.Svm.Sgc;

namespace Flash.Svm.Management.Upgrades;

/// <summary>Where the node's one upgrade is (the stored byte value is part of the state record format).</summary>
public enum UpgradeState : byte
{
    /// <summary>No upgrade has run (or the last one was cancelled).</summary>
    Idle = 0,
    /// <summary>A package is being fetched and stored into the alternate context.</summary>
    Downloading = 1,
    /// <summary>The new release is complete and verified in the alternate context of both devices.</summary>
    Validated = 2,
    /// <summary>The new release passed its trial boot and runs; the previous release is kept as the alternate until it is accepted or reverted.</summary>
    Activated = 3,
    /// <summary>The operator accepted the new release.</summary>
    Committed = 4,
    /// <summary>The trial failed or the operator reverted: the previous release runs.</summary>
    RolledBack = 5,
    /// <summary>The download or validation failed; the alternate is marked invalid.</summary>
    Failed = 6,
}

/// <summary>Why the machine reached its state (stored byte value is part of the record format).</summary>
public enum UpgradeOutcome : byte
{
    /// <summary>Nothing to say.</summary>
    None = 0,
    /// <summary>The operator cancelled the download or the validated release.</summary>
    Cancelled = 1,
    /// <summary>The package could not be fetched.</summary>
    TransferFailed = 2,
    /// <summary>The package was rejected (signature, digest, size, format).</summary>
    PackageRejected = 3,
    /// <summary>Storing or verifying the alternate failed.</summary>
    StorageFailed = 4,
    /// <summary>The trial boot of the new release failed.</summary>
    TrialFailed = 5,
    /// <summary>The operator reverted an activated release.</summary>
    Reverted = 6,
    /// <summary>The node restarted in the middle of a download; the alternate was discarded.</summary>
    Interrupted = 7,
}

/// <summary>What an operator (or a front end) asks the machine to do.</summary>
public enum UpgradeRequest
{
    /// <summary>Fetch a package and store it in the alternate context.</summary>
    Download,
    /// <summary>Stop a download, or discard a validated release.</summary>
    Cancel,
    /// <summary>Trial-boot the validated release.</summary>
    Activate,
    /// <summary>Accept the activated release (commit).</summary>
    Accept,
    /// <summary>Go back to the previous release (roll back).</summary>
    Revert,
}

/// <summary>Why a request was refused.</summary>
public enum UpgradeRefusal
{
    /// <summary>Another install is in flight (downloading, validated or activated).</summary>
    InstallInProgress,
    /// <summary>Nothing is validated that could be activated.</summary>
    NothingToActivate,
    /// <summary>No release is activated that could be accepted or reverted.</summary>
    NotActivated,
    /// <summary>Nothing is downloading or validated that could be cancelled.</summary>
    NothingToCancel,
}

/// <summary>A snapshot of the machine, as stored in NVS.</summary>
/// <param name="State">The state.</param>
/// <param name="Outcome">Why it is there.</param>
/// <param name="Sequence">Incremented on every stored change.</param>
/// <param name="Target">The release being installed (zero when none).</param>
/// <param name="Previous">The release that ran when the install started.</param>
/// <param name="ChangedAt">When the state last changed.</param>
/// <param name="Source">The transfer source, without credentials.</param>
/// <param name="Message">A short human-readable detail (error text).</param>
public sealed record UpgradeStatus(UpgradeState State, UpgradeOutcome Outcome, ulong Sequence, SoftwareVersion Target, SoftwareVersion Previous,
    DateTimeOffset ChangedAt, string Source, string Message)
{
    /// <summary>The status of a node that never upgraded.</summary>
    public static UpgradeStatus Initial { get; } = new(UpgradeState.Idle, UpgradeOutcome.None, 0, SoftwareVersion.Zero, SoftwareVersion.Zero, DateTimeOffset.UnixEpoch, "", "");

    /// <summary>True when a new install may start (no install is in flight).</summary>
    public bool IsSettled => State is UpgradeState.Idle or UpgradeState.Committed or UpgradeState.RolledBack or UpgradeState.Failed;
}

/// <summary>The request an operator may make in each state: a pure policy, shared by every front end.</summary>
public static class UpgradeTransitions
{
    /// <summary>Decides whether a request is allowed in a state.</summary>
    /// <param name="state">The current state.</param>
    /// <param name="request">The request.</param>
    /// <returns>Null when allowed, otherwise why not.</returns>
    public static UpgradeRefusal? Check(UpgradeState state, UpgradeRequest request) => request switch
    {
        UpgradeRequest.Download => state is UpgradeState.Downloading or UpgradeState.Validated or UpgradeState.Activated ? UpgradeRefusal.InstallInProgress : null,
        UpgradeRequest.Cancel => state is UpgradeState.Downloading or UpgradeState.Validated ? null : UpgradeRefusal.NothingToCancel,
        UpgradeRequest.Activate => state == UpgradeState.Validated ? null : state == UpgradeState.Downloading ? UpgradeRefusal.InstallInProgress : UpgradeRefusal.NothingToActivate,
        UpgradeRequest.Accept or UpgradeRequest.Revert => state == UpgradeState.Activated ? null : UpgradeRefusal.NotActivated,
        _ => throw new ArgumentOutOfRangeException(nameof(request)),
    };

    /// <summary>
    /// Reconciles a stored status with what the node runs after a restart (the record may be older than the contexts:
    /// a power cut between a context change and the record's write, or the copy the upgrade took into the new release).
    /// </summary>
    /// <param name="stored">The stored status.</param>
    /// <param name="current">The release of the current context.</param>
    /// <param name="alternate">The release of the alternate context, or null when the alternate is not complete.</param>
    /// <returns>The state to continue from (same sequence; the caller stores it when it differs).</returns>
    public static UpgradeStatus Reconcile(UpgradeStatus stored, SoftwareVersion current, SoftwareVersion? alternate)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return stored.State switch
        {
            // The copy of the record inside the new release still says Downloading/Validated: its trial passed.
            UpgradeState.Downloading or UpgradeState.Validated when current == stored.Target && stored.Target != SoftwareVersion.Zero
                => stored with { State = UpgradeState.Activated, Outcome = UpgradeOutcome.None },
            UpgradeState.Downloading => stored with { State = UpgradeState.Failed, Outcome = UpgradeOutcome.Interrupted, Message = "the node restarted during the download" },
            UpgradeState.Validated when alternate == stored.Target => stored,
            UpgradeState.Validated => stored with { State = UpgradeState.Failed, Outcome = UpgradeOutcome.Interrupted, Message = "the validated release is no longer in the alternate context" },
            UpgradeState.Activated when current == stored.Target => stored,
            UpgradeState.Activated => stored with { State = UpgradeState.RolledBack, Outcome = UpgradeOutcome.TrialFailed, Message = $"release {stored.Previous} runs after a restart during the trial" },
            _ => stored,
        };
    }
}

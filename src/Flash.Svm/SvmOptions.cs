using Flash.Svm.Configuration;
using Flash.Svm.Packages;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

/// <summary>Options of the software version manager.</summary>
public sealed class SvmOptions
{
    /// <summary>Logger; every event is logged with its <see cref="SvmEvents"/> id.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Trusted keys, anti-rollback floor and size limits for packages.</summary>
    public PackageVerificationOptions Packages { get; init; } = new();

    /// <summary>Sources packages can come from (matched by <see cref="TransferParameters.Source"/>).</summary>
    public IReadOnlyList<ISoftwareSource> Sources { get; init; } = [new FileSoftwareSource()];

    /// <summary>Where to download the software again when both devices are bad; null means the node reports that it cannot.</summary>
    public TransferParameters? RecoverySource { get; init; }

    /// <summary>Keep the previous configuration as a backup on every change, and use it when the configuration is missing or corrupt.</summary>
    public bool ConfigurationBackups { get; init; } = true;

    /// <summary>
    /// The unattended policy: restore the factory default when neither the configuration nor its backup is usable.
    /// When false (or without a factory default) init waits for the operator's choice instead
    /// (<see cref="BootReport.AwaitingConfiguration"/>, <see cref="SoftwareVersionManager.RestoreFactoryDefaults"/>,
    /// <see cref="SoftwareVersionManager.SupplyConfiguration"/>). Default true.
    /// </summary>
    public bool RestoreFactoryDefaults { get; init; } = true;

    /// <summary>Factory default configurations by name (<see cref="ConfigurationFile.NodeName"/> and module names).</summary>
    public IReadOnlyDictionary<string, ConfigurationFile> FactoryDefaults { get; init; } = new Dictionary<string, ConfigurationFile>();

    /// <summary>How long modules have to report healthy after an init command.</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Trial attempts granted when the alternate boot flag is set without an explicit count.</summary>
    public int TrialAttempts { get; init; } = 1;

    /// <summary>
    /// The node's pair id (for example from the chassis inventory). <see cref="SoftwareVersionManager.FormatAndInstall"/>
    /// formats the pair with it, and at init a device carrying another pair id is foreign. When null, the pair is
    /// inferred at init (<see cref="Init.InitPolicy.Classify"/>).
    /// </summary>
    public Guid? PairId { get; init; }

    /// <summary>At init, format a device of another pair (another node's) and join it as secondary; when false (default) it is reported and left untouched.</summary>
    public bool AdoptForeignDevice { get; init; }

    /// <summary>Accept an upgrade to the release that is already current (a reinstall); refused with <see cref="PackageRejectReason.SameVersion"/> otherwise.</summary>
    public bool AllowSameVersionReinstall { get; init; }

    /// <summary>
    /// While an upgrade's new files are copied from the primary to the secondary, reads of the primary wait (claim 37);
    /// a read that waits longer than <see cref="RestrictedReadTimeout"/> fails with <c>PrimaryRestrictedException</c>. Default true.
    /// </summary>
    public bool RestrictPrimaryDuringUpgradeCopy { get; init; } = true;

    /// <summary>How long a read of the primary waits while an upgrade copy restricts it. Default 30 s.</summary>
    public TimeSpan RestrictedReadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Optional extra validation of a trial boot, called after every module reported healthy.</summary>
    public Func<BootReport, bool>? TrialValidator { get; init; }
}

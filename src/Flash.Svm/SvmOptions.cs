using Flash.Svm.Configuration;
using Flash.Svm.Packages;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

/// <summary>Options of the software version manager.</summary>
public sealed class SvmOptions
{
    /// <summary>Logger; every event is logged with its <see cref="SvmEvents"/> id.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// Creates the loggers when <see cref="Logger"/> is null, one category per component:
    /// <c>Flash.Svm.SoftwareVersionManager</c>, <c>Flash.Ffs.Mirror.RedundantPair</c>, <c>Flash.Ffs.FlashFileSystem</c>.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Trusted keys, anti-rollback floor and size limits for packages.</summary>
    public PackageVerificationOptions Packages { get; init; } = new();

    /// <summary>Sources packages can come from (matched by <see cref="TransferParameters.Source"/>).</summary>
    public IReadOnlyList<ISoftwareSource> Sources { get; init; } = [new FileSoftwareSource()];

    /// <summary>Where to download the software again when both devices are bad; null means the node reports that it cannot.</summary>
    public TransferParameters? RecoverySource { get; init; }

    /// <summary>Keep the previous configuration as a backup on every change, and use it when the configuration is missing or corrupt.</summary>
    public bool ConfigurationBackups { get; init; } = true;

    /// <summary>Restore the factory default when neither the configuration nor its backup is usable.</summary>
    public bool RestoreFactoryDefaults { get; init; } = true;

    /// <summary>Factory default configurations by name (<see cref="ConfigurationFile.NodeName"/> and module names).</summary>
    public IReadOnlyDictionary<string, ConfigurationFile> FactoryDefaults { get; init; } = new Dictionary<string, ConfigurationFile>();

    /// <summary>How long modules have to report healthy after an init command.</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Trial attempts granted when the alternate boot flag is set without an explicit count.</summary>
    public int TrialAttempts { get; init; } = 1;

    /// <summary>Optional extra validation of a trial boot, called after every module reported healthy.</summary>
    public Func<BootReport, bool>? TrialValidator { get; init; }
}

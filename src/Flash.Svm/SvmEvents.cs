using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

/// <summary>Event ids SVM logs with (3000–3099) and raises through <see cref="SoftwareVersionManager.Event"/>.</summary>
public static class SvmEvents
{
    /// <summary>A device was formatted.</summary>
    public static readonly EventId DeviceFormatted = new(3000, nameof(DeviceFormatted));
    /// <summary>A device failed verification.</summary>
    public static readonly EventId DeviceBad = new(3001, nameof(DeviceBad));
    /// <summary>The secondary device was re-designated as primary.</summary>
    public static readonly EventId Redesignated = new(3002, nameof(Redesignated));
    /// <summary>A bad device was repaired from the good one.</summary>
    public static readonly EventId DeviceRepaired = new(3003, nameof(DeviceRepaired));
    /// <summary>The secondary was brought back in step with the primary.</summary>
    public static readonly EventId Resynchronised = new(3004, nameof(Resynchronised));
    /// <summary>Both devices were bad; software was downloaded again from the recovery source.</summary>
    public static readonly EventId Recovered = new(3005, nameof(Recovered));
    /// <summary>Both devices are bad and nothing could restore them.</summary>
    public static readonly EventId StorageUnavailable = new(3006, nameof(StorageUnavailable));
    /// <summary>Storage verified at init.</summary>
    public static readonly EventId StorageVerified = new(3007, nameof(StorageVerified));
    /// <summary>Both devices were probed and classified before init acted (<see cref="Init.InitPlan"/>).</summary>
    public static readonly EventId DevicesClassified = new(3008, nameof(DevicesClassified));
    /// <summary>No device can boot the node: the operator must replace a storage device (claims 65–68).</summary>
    public static readonly EventId ReplacementRequested = new(3009, nameof(ReplacementRequested));
    /// <summary>No device held a good current software set; it was rebuilt (valid alternate, combination of good components) without formatting.</summary>
    public static readonly EventId Rebuilt = new(3016, nameof(Rebuilt));
    /// <summary>Activating or trial-booting a release below the anti-rollback floor was refused.</summary>
    public static readonly EventId RollbackRefused = new(3017, nameof(RollbackRefused));
    /// <summary>A release committed and the anti-rollback floor rose to its security counter.</summary>
    public static readonly EventId SecurityFloorRaised = new(3018, nameof(SecurityFloorRaised));
    /// <summary>An upgrade started.</summary>
    public static readonly EventId UpgradeStarted = new(3010, nameof(UpgradeStarted));
    /// <summary>Upgrade progress.</summary>
    public static readonly EventId UpgradeProgress = new(3011, nameof(UpgradeProgress));
    /// <summary>An upgrade completed: the alternate is complete and verified on both devices.</summary>
    public static readonly EventId UpgradeCompleted = new(3012, nameof(UpgradeCompleted));
    /// <summary>An upgrade failed or was cancelled; the alternate is marked invalid.</summary>
    public static readonly EventId UpgradeFailed = new(3013, nameof(UpgradeFailed));
    /// <summary>A package was rejected before anything was written.</summary>
    public static readonly EventId PackageRejected = new(3014, nameof(PackageRejected));
    /// <summary>Autonomous output message: a programmable device (FPGA/CPLD) will be reprogrammed, affecting service.</summary>
    public static readonly EventId ProgrammableDeviceChange = new(3015, nameof(ProgrammableDeviceChange));
    /// <summary>A system-wide init command was issued.</summary>
    public static readonly EventId SystemInit = new(3020, nameof(SystemInit));
    /// <summary>A module was initialised.</summary>
    public static readonly EventId ModuleInitialised = new(3021, nameof(ModuleInitialised));
    /// <summary>A module failed to initialise or become healthy.</summary>
    public static readonly EventId ModuleFailed = new(3022, nameof(ModuleFailed));
    /// <summary>A trial boot of the alternate started (the boot flag was cleared).</summary>
    public static readonly EventId TrialStarted = new(3030, nameof(TrialStarted));
    /// <summary>The trial succeeded and the alternate became current.</summary>
    public static readonly EventId Committed = new(3031, nameof(Committed));
    /// <summary>The trial failed; the node rolled back to the previous current context.</summary>
    public static readonly EventId RolledBack = new(3032, nameof(RolledBack));
    /// <summary>A trial attempt failed and another one is made.</summary>
    public static readonly EventId TrialRetry = new(3033, nameof(TrialRetry));
    /// <summary>The alternate boot flag was set.</summary>
    public static readonly EventId BootFlagSet = new(3034, nameof(BootFlagSet));
    /// <summary>Current and alternate contexts were exchanged.</summary>
    public static readonly EventId ContextsExchanged = new(3035, nameof(ContextsExchanged));
    /// <summary>An alternate left half-written by a crash was marked invalid.</summary>
    public static readonly EventId AlternateInvalidated = new(3036, nameof(AlternateInvalidated));
    /// <summary>The configuration changed (the previous one was kept as backup).</summary>
    public static readonly EventId ConfigurationChanged = new(3040, nameof(ConfigurationChanged));
    /// <summary>A missing or corrupt configuration was replaced by its backup.</summary>
    public static readonly EventId ConfigurationFromBackup = new(3041, nameof(ConfigurationFromBackup));
    /// <summary>A missing or corrupt configuration was replaced by the factory default.</summary>
    public static readonly EventId ConfigurationFactoryDefault = new(3042, nameof(ConfigurationFactoryDefault));
    /// <summary>A missing or corrupt configuration could not be replaced.</summary>
    public static readonly EventId ConfigurationFailed = new(3043, nameof(ConfigurationFailed));
    /// <summary>Init found a configuration it may not restore unattended and waits for the operator's choice.</summary>
    public static readonly EventId ConfigurationChoiceRequired = new(3044, nameof(ConfigurationChoiceRequired));
    /// <summary>The operator supplied a configuration while init waited for it.</summary>
    public static readonly EventId ConfigurationSupplied = new(3045, nameof(ConfigurationSupplied));
    /// <summary>A copy of a new file, read back from the primary, did not verify against the SGC file; the upgrade fails.</summary>
    public static readonly EventId UpgradeCopyNotVerified = new(3016, nameof(UpgradeCopyNotVerified));
}

/// <summary>An event raised by SVM (also logged through <see cref="ILogger"/> with the same id).</summary>
/// <param name="id">Event id.</param>
/// <param name="message">Human-readable text.</param>
/// <param name="module">The module concerned, if any.</param>
/// <param name="device">The storage or programmable device concerned, if any.</param>
public sealed class SvmEventArgs(EventId id, string message, ModuleAddress? module = null, string? device = null) : EventArgs
{
    /// <summary>Event id (same as logged).</summary>
    public EventId Id { get; } = id;

    /// <summary>Human-readable text.</summary>
    public string Message { get; } = message;

    /// <summary>The module concerned, if any.</summary>
    public ModuleAddress? Module { get; } = module;

    /// <summary>The storage or programmable device concerned, if any.</summary>
    public string? Device { get; } = device;

    /// <inheritdoc />
    public override string ToString() => $"[{Id.Name}] {Message}";
}

using Flash.Svm.Sgc;

namespace Flash.Svm;

/// <summary>Kind of upgrade.</summary>
public enum UpgradeMode
{
    /// <summary>Partial when the current context holds a valid SGC file, otherwise full.</summary>
    Auto,
    /// <summary>Download every component.</summary>
    Full,
    /// <summary>Download only changed components; copy the others from the current context.</summary>
    Partial,
}

/// <summary>What to do once the alternate is complete on both devices.</summary>
public enum ActivationMode
{
    /// <summary>Leave it in the alternate context.</summary>
    None,
    /// <summary>Set the alternate boot flag: the next init trial-boots it.</summary>
    TrialBoot,
    /// <summary>Exchange contexts: the next init loads it without a trial.</summary>
    Exchange,
}

/// <summary>The system command that starts an upgrade.</summary>
/// <param name="Transfer">Where the package comes from.</param>
/// <param name="Mode">Full, partial or automatic.</param>
/// <param name="Activation">What to do when the alternate is complete.</param>
public sealed record UpgradeCommand(Packages.TransferParameters Transfer, UpgradeMode Mode = UpgradeMode.Auto, ActivationMode Activation = ActivationMode.TrialBoot);

/// <summary>Progress of an upgrade.</summary>
/// <param name="Phase">What is being done (<c>download</c>, <c>verify</c>, <c>copy-secondary</c>, ...).</param>
/// <param name="Bytes">Bytes done in this phase.</param>
/// <param name="TotalBytes">Bytes in this phase.</param>
/// <param name="Components">Components done in this phase.</param>
/// <param name="TotalComponents">Components in this phase.</param>
public readonly record struct UpgradeProgress(string Phase, long Bytes, long TotalBytes, int Components, int TotalComponents);

/// <summary>A programmable device an upgrade reprograms (the subject of an autonomous output message).</summary>
/// <param name="Module">The module.</param>
/// <param name="Device">Device name.</param>
/// <param name="Kind">FPGA or CPLD.</param>
/// <param name="Component">The new image.</param>
public sealed record ProgrammableDeviceChange(ModuleAddress Module, string Device, ProgrammableDeviceKind Kind, string Component);

/// <summary>Outcome of an upgrade.</summary>
/// <param name="Release">The release now in the alternate context.</param>
/// <param name="Mode">Full or partial.</param>
/// <param name="Downloaded">Components written from the package.</param>
/// <param name="Copied">Components copied from the current context.</param>
/// <param name="AffectedModules">Modules to re-initialise (all modules for a full upgrade).</param>
/// <param name="DeviceChanges">Programmable devices that will be reprogrammed.</param>
/// <param name="BytesWritten">Component bytes written to the primary device.</param>
public sealed record UpgradeResult(SoftwareVersion Release, UpgradeMode Mode, IReadOnlyList<string> Downloaded, IReadOnlyList<string> Copied,
    IReadOnlyList<ModuleAddress> AffectedModules, IReadOnlyList<ProgrammableDeviceChange> DeviceChanges, long BytesWritten)
{
    /// <inheritdoc />
    public override string ToString()
        => $"{Mode} upgrade to {Release}: downloaded [{string.Join(", ", Downloaded)}], copied [{string.Join(", ", Copied)}], affected modules [{string.Join(", ", AffectedModules)}], "
         + $"reprogrammed [{string.Join(", ", DeviceChanges.Select(d => $"{d.Module} {d.Kind} {d.Device} <- {d.Component}"))}], {BytesWritten} bytes written";
}

/// <summary>What happened to a trial boot.</summary>
public enum TrialOutcome
{
    /// <summary>No trial was requested.</summary>
    None,
    /// <summary>The trial succeeded: the alternate is now current.</summary>
    Committed,
    /// <summary>The trial failed: the previous current context is running.</summary>
    RolledBack,
}

/// <summary>Where the configuration came from at init.</summary>
public enum ConfigurationSource
{
    /// <summary>The stored configuration was valid.</summary>
    Stored,
    /// <summary>At least one file was restored from its backup.</summary>
    Backup,
    /// <summary>At least one file was restored from the factory default.</summary>
    FactoryDefault,
    /// <summary>The operator supplied the configuration while init waited for it (<see cref="SoftwareVersionManager.SupplyConfiguration"/>).</summary>
    Supplied,
}

/// <summary>Outcome of a node init.</summary>
public sealed class BootReport
{
    /// <summary>The release running.</summary>
    public SoftwareVersion Release { get; internal set; }

    /// <summary>The device designated primary after init.</summary>
    public string PrimaryDevice { get; internal set; } = "";

    /// <summary>True when the secondary was re-designated as primary.</summary>
    public bool Redesignated { get; internal set; }

    /// <summary>Devices repaired or resynchronised from the good one.</summary>
    public IList<string> Repaired { get; } = [];

    /// <summary>True when both devices were bad and the software was downloaded again.</summary>
    public bool Recovered { get; internal set; }

    /// <summary>Trial outcome.</summary>
    public TrialOutcome Trial { get; internal set; }

    /// <summary>Trial attempts made.</summary>
    public int TrialAttempts { get; internal set; }

    /// <summary>Where the configuration came from.</summary>
    public ConfigurationSource Configuration { get; internal set; }

    /// <summary>Modules (re-)initialised by the final init command.</summary>
    public IList<ModuleAddress> InitialisedModules { get; } = [];

    /// <summary>Modules that failed (crashed or not healthy in time) in the final init.</summary>
    public IList<ModuleAddress> FailedModules { get; } = [];

    /// <summary>Events raised during init.</summary>
    public IList<SvmEventArgs> Events { get; } = [];

    /// <summary>True when every module is healthy.</summary>
    public bool Healthy => FailedModules.Count == 0;

    /// <summary>What init found on each device before it acted (nvs0 first).</summary>
    public IReadOnlyList<Init.DeviceVerdict> Devices { get; internal set; } = [];

    /// <summary>True when the node runs on one device (the other is out of service: foreign, other geometry, dead or failed).</summary>
    public bool Degraded { get; internal set; }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("release ").Append(Release).Append(" on primary ").Append(PrimaryDevice);
        if (Degraded)
        {
            sb.Append(" (degraded)");
        }

        if (Devices.Count > 0)
        {
            sb.Append("; devices: ").AppendJoin(", ", Devices.Select(d => $"{d.Name} {d.Condition}"));
        }

        if (Redesignated)
        {
            sb.Append("; redesignated");
        }

        if (Repaired.Count > 0)
        {
            sb.Append("; repaired ").AppendJoin(", ", Repaired);
        }

        if (Recovered)
        {
            sb.Append("; recovered");
        }

        if (Trial != TrialOutcome.None)
        {
            sb.Append("; trial ").Append(Trial).Append(" after ").Append(TrialAttempts).Append(" attempt(s)");
        }

        sb.Append("; configuration ").Append(Configuration);
        sb.Append("; modules initialised: ").Append(InitialisedModules.Count == 0 ? "none" : string.Join(", ", InitialisedModules));
        if (FailedModules.Count > 0)
        {
            sb.Append("; failed: ").AppendJoin(", ", FailedModules);
        }

        return sb.ToString();
    }

    /// <summary>The configurations init could not restore and the choices offered, while the node waits for one (claim 54); null otherwise.</summary>
    public ConfigurationUnavailable? ConfigurationUnavailable { get; internal set; }

    /// <summary>True while init waits for the operator's configuration choice: software verified, modules not started.</summary>
    public bool AwaitingConfiguration => ConfigurationUnavailable is not null;
}

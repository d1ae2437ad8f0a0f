using Flash.Drivers;

namespace Flash.Svm.Init;

/// <summary>What init found on one storage device before it acted (see <see cref="InitPolicy.Classify"/>).</summary>
public enum DeviceCondition
{
    /// <summary>The device belongs to the node's pair and its current context (software and configuration) verifies.</summary>
    Good,
    /// <summary>The device belongs to the node's pair; its configuration verifies but its software (SGC file, a component or the context table) does not.</summary>
    BadSoftware,
    /// <summary>The device belongs to the node's pair; its software verifies but a configuration file does not.</summary>
    BadConfiguration,
    /// <summary>The device carries no pair (unformatted, no designation record, or a file system that cannot be mounted): it may be formatted and filled.</summary>
    Blank,
    /// <summary>The device carries another pair (another node's device): left untouched unless <see cref="SvmOptions.AdoptForeignDevice"/> is set.</summary>
    Foreign,
    /// <summary>The device's geometry differs from the node's other device: it cannot mirror it and is left untouched.</summary>
    OtherGeometry,
    /// <summary>The device does not answer (every access fails): out of service, left untouched.</summary>
    Dead,
}

/// <summary>What init does with one device.</summary>
public enum DeviceAction
{
    /// <summary>The device takes part in the pair (it may be brought up to date from the other one).</summary>
    Use,
    /// <summary>The device is blank and gets a full copy of the other device.</summary>
    Fill,
    /// <summary>Another node's device that the operator allowed to be formatted and joined (<see cref="SvmOptions.AdoptForeignDevice"/>).</summary>
    Adopt,
    /// <summary>The device is kept out of service and never written (foreign, other geometry, dead).</summary>
    Fence,
}

/// <summary>What a read-only probe found on one device (input of <see cref="InitPolicy.Classify"/>).</summary>
/// <param name="Name">nvs0 or nvs1.</param>
/// <param name="Geometry">The device's geometry.</param>
/// <param name="DeadReason">Why every access failed; null when the device answers.</param>
/// <param name="PairId">The pair id of its designation record; null when it carries no pair.</param>
/// <param name="DesignationGeneration">The generation of its designation record (0 without one).</param>
/// <param name="DesignatedPrimary">Whether its designation record names this device as the primary.</param>
/// <param name="TableSequence">The sequence of its context table; null when it has no valid table.</param>
/// <param name="SoftwareError">Why the software of its current context does not verify; null when it does.</param>
/// <param name="ConfigurationError">Why the configuration of its current context does not verify; null when it does.</param>
/// <param name="AlternateUsable">Whether its alternate context is complete and its software verifies.</param>
public sealed record DeviceFacts(string Name, FlashGeometry Geometry, string? DeadReason, Guid? PairId, ulong DesignationGeneration, bool DesignatedPrimary,
    ulong? TableSequence, string? SoftwareError, string? ConfigurationError, bool AlternateUsable)
{
    /// <summary>Facts of a device that answers but carries no pair.</summary>
    /// <param name="name">nvs0 or nvs1.</param>
    /// <param name="geometry">Its geometry.</param>
    /// <returns>The facts.</returns>
    public static DeviceFacts Blank(string name, FlashGeometry geometry) => new(name, geometry, null, null, 0, false, null, "blank", "blank", false);

    /// <summary>Facts of a device that does not answer.</summary>
    /// <param name="name">nvs0 or nvs1.</param>
    /// <param name="geometry">Its geometry.</param>
    /// <param name="reason">What failed.</param>
    /// <returns>The facts.</returns>
    public static DeviceFacts Dead(string name, FlashGeometry geometry, string reason) => new(name, geometry, reason, null, 0, false, null, reason, reason, false);

    /// <inheritdoc />
    public override string ToString()
        => DeadReason is not null ? $"{Name}: dead ({DeadReason})"
        : PairId is null ? $"{Name}: blank"
        : $"{Name}: pair {PairId:N} gen {DesignationGeneration}{(DesignatedPrimary ? " primary" : "")}, seq {TableSequence?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}, software {SoftwareError ?? "ok"}, configuration {ConfigurationError ?? "ok"}{(AlternateUsable ? ", alternate usable" : "")}";
}

/// <summary>The classification of one device and what init does with it.</summary>
/// <param name="Name">nvs0 or nvs1.</param>
/// <param name="Condition">What was found.</param>
/// <param name="Action">What init does with it.</param>
/// <param name="Reason">Why (for the report and the <see cref="SvmEvents.DeviceBad"/> event); empty for a good device.</param>
public sealed record DeviceVerdict(string Name, DeviceCondition Condition, DeviceAction Action, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name}: {Condition} -> {Action}{(Reason.Length > 0 ? " (" + Reason + ")" : "")}";
}

/// <summary>How init proceeds as a whole.</summary>
public enum InitStrategy
{
    /// <summary>Mount the pair (one or both devices) and boot on the best device; a device with bad parts is repaired from the other.</summary>
    Boot,
    /// <summary>No device holds a usable current software set, but the pair can be mounted: rebuild the current set in the alternate from the good parts (a valid alternate release, components good on either device, or a download) without formatting anything, then boot.</summary>
    Rebuild,
    /// <summary>No device holds the node's pair but at least one can take it: with a recovery source, download, verify and only then format and install (factory configuration); otherwise the node cannot boot.</summary>
    Reinstall,
    /// <summary>No device can be used at all (dead, other geometry, foreign and not adopted): replacement requested.</summary>
    Unavailable,
}

/// <summary>The decision of <see cref="InitPolicy.Classify"/>.</summary>
/// <param name="Devices">One verdict per device, nvs0 first.</param>
/// <param name="Strategy">How init proceeds.</param>
/// <param name="NodePairId">The pair the node runs on (null when no device carries it).</param>
/// <param name="Preferred">The device that should be primary (best current context); null when none qualifies.</param>
public sealed record InitPlan(IReadOnlyList<DeviceVerdict> Devices, InitStrategy Strategy, Guid? NodePairId, string? Preferred)
{
    /// <summary>The verdict of a device.</summary>
    /// <param name="name">nvs0 or nvs1.</param>
    /// <returns>The verdict.</returns>
    public DeviceVerdict this[string name] => Devices.First(d => d.Name == name);

    /// <inheritdoc />
    public override string ToString() => $"{Strategy}: {string.Join("; ", Devices)}{(Preferred is null ? "" : ", primary " + Preferred)}";
}

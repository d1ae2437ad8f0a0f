namespace Flash.Svm;

/// <summary>What the operator may do when init finds no usable configuration and no backup (claim 54).</summary>
public enum ConfigurationChoice
{
    /// <summary>Restore the factory default configuration (<see cref="SoftwareVersionManager.RestoreFactoryDefaults"/>); offered when every missing configuration has one.</summary>
    RestoreFactoryDefaults = 0,

    /// <summary>Supply the configuration (<see cref="SoftwareVersionManager.SupplyConfiguration"/>); always offered.</summary>
    SupplyConfiguration = 1,
}

/// <summary>The configurations init could not restore on its own, and the choices the operator has.</summary>
/// <param name="Names">The configuration files that are missing or corrupt without a usable backup.</param>
/// <param name="Choices">What the operator may do.</param>
public sealed record ConfigurationUnavailable(IReadOnlyList<string> Names, IReadOnlyList<ConfigurationChoice> Choices)
{
    /// <inheritdoc />
    public override string ToString() => $"configuration unavailable: {string.Join(", ", Names)} (choices: {string.Join(", ", Choices)})";
}

namespace Flash.Svm.Management.Tl1;

/// <summary>Where the TL1 log-in guard keeps its failure counts and lockouts (so they survive a restart).</summary>
public interface ITl1LoginStore
{
    /// <summary>Reads the stored table.</summary>
    /// <returns>The entries (empty when none were stored).</returns>
    /// <exception cref="SvmFormatException">The stored record is corrupt.</exception>
    IReadOnlyList<Tl1LoginEntry> Read();

    /// <summary>Stores the table atomically: after a power cut the old or the new table is read, never a mix.</summary>
    /// <param name="entries">The entries.</param>
    void Write(IReadOnlyCollection<Tl1LoginEntry> entries);
}

/// <summary>
/// Keeps the table in NVS next to the accounts' configuration: the file <see cref="Path"/> in the current context of
/// both devices, one atomic commit per device (as <see cref="Upgrades.NvsUpgradeStateStore"/>). Under <c>config/</c>,
/// so an upgrade carries a lockout into the new release.
/// </summary>
/// <param name="svm">The node's SVM (storage initialised).</param>
public sealed class NvsTl1LoginStore(SoftwareVersionManager svm) : ITl1LoginStore
{
    /// <summary>The record's path in a context.</summary>
    public const string Path = SvmLayout.ConfigurationPrefix + "mgmt/tl1-logins";

    /// <inheritdoc />
    public IReadOnlyList<Tl1LoginEntry> Read()
    {
        byte[] data;
        try
        {
            data = svm.Storage.ReadCurrent(Path);
        }
        catch (Flash.Ffs.FlashPathNotFoundException)
        {
            return [];
        }

        return Tl1LoginRecord.Decode(data);
    }

    /// <inheritdoc />
    public void Write(IReadOnlyCollection<Tl1LoginEntry> entries)
    {
        var record = Tl1LoginRecord.Encode(entries);
        svm.Storage.WriteCurrentConfiguration([new(Path, record)]);
    }
}

/// <summary>Keeps the table in memory (a restart clears it; tests and nodes without NVS).</summary>
public sealed class MemoryTl1LoginStore : ITl1LoginStore
{
    private byte[]? _record;

    /// <inheritdoc />
    public IReadOnlyList<Tl1LoginEntry> Read() => _record is null ? [] : Tl1LoginRecord.Decode(_record);

    /// <inheritdoc />
    public void Write(IReadOnlyCollection<Tl1LoginEntry> entries) => _record = Tl1LoginRecord.Encode(entries);
}

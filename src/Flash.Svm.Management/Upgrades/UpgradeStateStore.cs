namespace Flash.Svm.Management.Upgrades;

/// <summary>Where the upgrade state machine keeps its record.</summary>
public interface IUpgradeStateStore
{
    /// <summary>Reads the stored status.</summary>
    /// <returns>The status, or null when none was stored.</returns>
    /// <exception cref="SvmFormatException">The stored record is corrupt.</exception>
    UpgradeStatus? Read();

    /// <summary>Stores a status atomically: after a power cut the old or the new record is read, never a mix.</summary>
    /// <param name="status">The status.</param>
    void Write(UpgradeStatus status);
}

/// <summary>
/// Keeps the record in NVS: the file <see cref="Path"/> in the current context of both devices, written in one atomic
/// commit per device. It lives under <c>config/</c> in a subdirectory, so an upgrade carries it into the new release
/// (which lets <see cref="UpgradeTransitions.Reconcile"/> recognise a committed trial) while the configuration checks
/// at init leave it alone.
/// </summary>
/// <param name="svm">The node's SVM (storage initialised).</param>
public sealed class NvsUpgradeStateStore(SoftwareVersionManager svm) : IUpgradeStateStore
{
    /// <summary>The record's path in a context.</summary>
    public const string Path = SvmLayout.ConfigurationPrefix + "mgmt/upgrade-state";

    /// <inheritdoc />
    public UpgradeStatus? Read()
    {
        byte[] data;
        try
        {
            data = svm.Storage.ReadCurrent(Path);
        }
        catch (Flash.Ffs.FlashPathNotFoundException)
        {
            return null;
        }

        return UpgradeStateRecord.Decode(data);
    }

    /// <inheritdoc />
    public void Write(UpgradeStatus status)
    {
        var record = UpgradeStateRecord.Encode(status);
        svm.Storage.WriteCurrentConfiguration([new(Path, record)]);
    }
}

/// <summary>Keeps the record in memory (tests, nodes without NVS).</summary>
public sealed class MemoryUpgradeStateStore : IUpgradeStateStore
{
    private byte[]? _record;

    /// <summary>The encoded record, as NVS would hold it.</summary>
    public ReadOnlyMemory<byte>? Record => _record;

    /// <inheritdoc />
    public UpgradeStatus? Read() => _record is null ? null : UpgradeStateRecord.Decode(_record);

    /// <inheritdoc />
    public void Write(UpgradeStatus status) => _record = UpgradeStateRecord.Encode(status);
}

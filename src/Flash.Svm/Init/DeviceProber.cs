using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;

namespace Flash.Svm.Init;

/// <summary>
/// Reads what one storage device holds without writing a byte (the file system is mounted read-only): its designation
/// record, context table, and whether the software and configuration of its current context (and the software of a
/// complete alternate) verify. The result feeds <see cref="InitPolicy.Classify"/>.
/// </summary>
internal static class DeviceProber
{
    /// <summary>Probes a device.</summary>
    /// <param name="name">nvs0 or nvs1.</param>
    /// <param name="device">The device.</param>
    /// <returns>The facts; never throws for a device fault.</returns>
    public static DeviceFacts Probe(string name, IFlashDevice device)
    {
        var geometry = device.Geometry;
        FlashFileSystem fs;
        try
        {
            fs = FlashFileSystem.Mount(device, new FlashFileSystemOptions { ReadOnly = true });
        }
        catch (Exception ex) when (ex is FileSystemCorruptException or GeometryMismatchException)
        {
            return DeviceFacts.Blank(name, geometry);
        }
        catch (Exception ex) when (ex is FlashException or ObjectDisposedException)
        {
            return DeviceFacts.Dead(name, geometry, ex.Message);
        }

        string? fault = null;
        try
        {
            byte[]? Read(string path)
            {
                try
                {
                    return fs.Exists(path) ? fs.ReadAllBytes(path) : null;
                }
                catch (FlashException ex)
                {
                    fault ??= ex.Message;
                    throw;
                }
            }

            var record = Read(PairMetadataStore.DesignationPath) is { } r ? DesignationRecord.TryDecode(r) : null;
            if (record is null)
            {
                return fault is null ? DeviceFacts.Blank(name, geometry) : DeviceFacts.Dead(name, geometry, fault);
            }

            ContextStore store;
            try
            {
                store = ContextStore.Open(fs);
            }
            catch (IOException ex) when (ex is not FlashException)
            {
                return new DeviceFacts(name, geometry, null, record.PairId, record.Generation, record.PrimaryId == record.DeviceId, null,
                    "context table: " + ex.Message, "context table: " + ex.Message, false);
            }

            var table = store.Table;
            AreaVerification Check(ContextArea area, bool configuration)
                => AreaChecker.Check(p => Read(area.Directory() + "/" + p), () => store.List(area), configuration);

            var current = Check(table.Current, configuration: true);
            bool alternate = table.AlternateState == ContextState.Valid && Check(table.Alternate, configuration: false).SoftwareOk;
            return fault is not null
                ? DeviceFacts.Dead(name, geometry, fault)
                : new DeviceFacts(name, geometry, null, record.PairId, record.Generation, record.PrimaryId == record.DeviceId, table.Sequence,
                    current.SoftwareError, current.ConfigurationError, alternate);
        }
        catch (FlashException ex)
        {
            return DeviceFacts.Dead(name, geometry, ex.Message);
        }
        catch (IOException) when (fault is null)
        {
            // The designation record is unreadable: the pair's mount treats such a device as blank too.
            return DeviceFacts.Blank(name, geometry);
        }
        catch (IOException ex)
        {
            return DeviceFacts.Dead(name, geometry, fault ?? ex.Message);
        }
        finally
        {
            try
            {
                fs.Unmount();
            }
            catch (IOException)
            {
                // Read-only: nothing to write; a failing device was already reported.
            }
        }
    }
}

using Flash.Drivers;
using Flash.Ffs;
using Flash.Svm.Configuration;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Storage;

/// <summary>What a context area holds: component files, configuration files and their backups.</summary>
public enum AreaFolder
{
    /// <summary>Component files.</summary>
    Components,
    /// <summary>Configuration files.</summary>
    Configuration,
    /// <summary>Backups of the previous configuration.</summary>
    ConfigurationBackup,
}

/// <summary>Result of verifying one context area.</summary>
/// <param name="Sgc">The SGC file, if it parsed.</param>
/// <param name="SoftwareError">Why the SGC file or a component is bad; null when good.</param>
/// <param name="ConfigurationError">Why the configuration is bad; null when good.</param>
public sealed record AreaVerification(SgcFile? Sgc, string? SoftwareError, string? ConfigurationError)
{
    /// <summary>SGC file and every component verified.</summary>
    public bool SoftwareOk => SoftwareError is null;

    /// <summary>Software and configuration verified.</summary>
    public bool Ok => SoftwareError is null && ConfigurationError is null;
}

/// <summary>
/// One redundant storage device: a flash file system holding the context table and two context areas.
/// Only <see cref="SoftwareVersionManager"/> uses it (the node's modules never touch storage).
/// </summary>
public sealed class NvsDevice : IDisposable
{
    private const string Root = "/svm";
    private const string TablePath = Root + "/table";
    private readonly ILogger _log;
    private FlashFileSystem? _fs;

    /// <summary>Creates the wrapper; call <see cref="TryMount"/> or <see cref="Format"/> before use.</summary>
    /// <param name="name">Device name for logs and events.</param>
    /// <param name="device">The flash device.</param>
    /// <param name="logger">Logger.</param>
    public NvsDevice(string name, IFlashDevice device, ILogger logger)
    {
        Name = name;
        Device = device;
        _log = logger;
    }

    /// <summary>Device name.</summary>
    public string Name { get; }

    /// <summary>The flash device.</summary>
    public IFlashDevice Device { get; }

    /// <summary>True when the file system is mounted and healthy.</summary>
    public bool IsMounted => _fs is { IsMounted: true };

    private FlashFileSystem Fs => _fs is { IsMounted: true } fs ? fs : throw new NvsUnavailableException($"{Name} is not mounted.");

    /// <summary>Mounts the file system (remounting if it was faulted).</summary>
    /// <returns>Null on success, else why it failed.</returns>
    public string? TryMount()
    {
        if (_fs is not null)
        {
            try
            {
                _fs.Dispose();
            }
            catch (IOException)
            {
                // A faulted volume may fail to write its final checkpoint; remounting recovers from flash.
            }

            _fs = null;
        }

        try
        {
            _fs = FlashFileSystem.Mount(Device);
            return null;
        }
        catch (IOException ex)
        {
            return ex.Message;
        }
    }

    /// <summary>Formats the device and creates the empty layout. Everything on it is lost.</summary>
    public void Format()
    {
        if (_fs is not null)
        {
            try
            {
                _fs.Dispose();
            }
            catch (IOException)
            {
                // Formatting anyway.
            }

            _fs = null;
        }

        FlashFileSystem.Format(Device, new FormatOptions { Label = Name });
        _fs = FlashFileSystem.Mount(Device);
        using var txn = _fs.BeginTransaction();
        txn.CreateDirectory(Root);
        for (int a = 0; a < 2; a++)
        {
            txn.CreateDirectory(AreaPath(a));
            foreach (var f in Enum.GetValues<AreaFolder>())
            {
                txn.CreateDirectory(FolderPath(a, f));
            }
        }

        txn.Commit();
        _log.LogInformation(SvmEvents.DeviceFormatted, "{Device}: formatted", Name);
    }

    /// <summary>Reads the context table.</summary>
    /// <param name="error">Why it could not be read.</param>
    /// <returns>The table or null.</returns>
    public NvsTable? ReadTable(out string? error)
    {
        try
        {
            var t = NvsTable.Parse(Fs.ReadAllBytes(TablePath));
            error = null;
            return t;
        }
        catch (Exception ex) when (ex is IOException)
        {
            error = ex.Message;
            return null;
        }
    }

    /// <summary>Replaces the context table atomically.</summary>
    /// <param name="table">The new table.</param>
    public void WriteTable(NvsTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        Fs.WriteAllBytes(TablePath, table.ToBytes());
    }

    /// <summary>Path of an area.</summary>
    internal static string AreaPath(int area) => $"{Root}/area{area}";

    /// <summary>Path of an area's folder.</summary>
    internal static string FolderPath(int area, AreaFolder folder) => AreaPath(area) + folder switch
    {
        AreaFolder.Components => "/c",
        AreaFolder.Configuration => "/cfg",
        _ => "/cfg.bak",
    };

    /// <summary>Path of the SGC file of an area.</summary>
    internal static string SgcPath(int area) => AreaPath(area) + "/sgc";

    /// <summary>Reads a file of an area.</summary>
    /// <param name="area">Area index.</param>
    /// <param name="folder">Folder.</param>
    /// <param name="name">File name.</param>
    /// <returns>The bytes or null when missing.</returns>
    public byte[]? ReadFile(int area, AreaFolder folder, string name)
    {
        string path = FolderPath(area, folder) + "/" + name;
        return Fs.Exists(path) ? Fs.ReadAllBytes(path) : null;
    }

    /// <summary>Writes a file of an area atomically.</summary>
    /// <param name="area">Area index.</param>
    /// <param name="folder">Folder.</param>
    /// <param name="name">File name.</param>
    /// <param name="data">Content.</param>
    public void WriteFile(int area, AreaFolder folder, string name, ReadOnlySpan<byte> data)
        => Fs.WriteAllBytes(FolderPath(area, folder) + "/" + name, data);

    /// <summary>Reads the SGC file bytes of an area.</summary>
    /// <param name="area">Area index.</param>
    /// <returns>The bytes or null.</returns>
    public byte[]? ReadSgc(int area) => Fs.Exists(SgcPath(area)) ? Fs.ReadAllBytes(SgcPath(area)) : null;

    /// <summary>Writes the SGC file of an area (written last when an area is filled).</summary>
    /// <param name="area">Area index.</param>
    /// <param name="data">The SGC bytes.</param>
    public void WriteSgc(int area, ReadOnlySpan<byte> data) => Fs.WriteAllBytes(SgcPath(area), data);

    /// <summary>Lists the files of an area's folder.</summary>
    /// <param name="area">Area index.</param>
    /// <param name="folder">Folder.</param>
    /// <returns>File names.</returns>
    public IReadOnlyList<string> List(int area, AreaFolder folder)
    {
        string path = FolderPath(area, folder);
        return Fs.Exists(path) ? Fs.ListDirectory(path).Where(e => !e.IsDirectory).Select(e => e.Name).ToList() : [];
    }

    /// <summary>Deletes a file of an area if present.</summary>
    /// <param name="area">Area index.</param>
    /// <param name="folder">Folder.</param>
    /// <param name="name">File name.</param>
    public void DeleteFile(int area, AreaFolder folder, string name)
    {
        string path = FolderPath(area, folder) + "/" + name;
        if (Fs.Exists(path))
        {
            Fs.Delete(path);
        }
    }

    /// <summary>Removes everything from an area (its SGC file first, so a partial clear is never mistaken for software).</summary>
    /// <param name="area">Area index.</param>
    public void ClearArea(int area)
    {
        if (Fs.Exists(SgcPath(area)))
        {
            Fs.Delete(SgcPath(area));
        }

        foreach (var folder in Enum.GetValues<AreaFolder>())
        {
            if (!Fs.Exists(FolderPath(area, folder)))
            {
                if (!Fs.Exists(AreaPath(area)))
                {
                    Fs.CreateDirectory(AreaPath(area));
                }

                Fs.CreateDirectory(FolderPath(area, folder));
                continue;
            }

            foreach (var name in List(area, folder))
            {
                Fs.Delete(FolderPath(area, folder) + "/" + name);
            }
        }
    }

    /// <summary>Applies several writes and deletes as one atomic file-system transaction.</summary>
    /// <param name="build">Adds the operations.</param>
    public void Atomically(Action<AreaTransaction> build)
    {
        ArgumentNullException.ThrowIfNull(build);
        using var txn = Fs.BeginTransaction();
        build(new AreaTransaction(txn, Fs));
        txn.Commit();
    }

    /// <summary>Verifies an area: the SGC file's checksum, every component against it, and the node configuration.</summary>
    /// <param name="area">Area index.</param>
    /// <param name="checkConfiguration">Also check configuration files.</param>
    /// <returns>The result.</returns>
    public AreaVerification Verify(int area, bool checkConfiguration)
    {
        SgcFile sgc;
        try
        {
            var bytes = ReadSgc(area);
            if (bytes is null)
            {
                return new AreaVerification(null, "no SGC file", null);
            }

            sgc = SgcFile.Parse(bytes);
        }
        catch (IOException ex)
        {
            return new AreaVerification(null, "SGC file: " + ex.Message, null);
        }

        foreach (var c in sgc.Components)
        {
            try
            {
                var data = ReadFile(area, AreaFolder.Components, c.Name);
                if (data is null)
                {
                    return new AreaVerification(sgc, $"component {c.Name} is missing", null);
                }

                if (!c.Matches(data))
                {
                    return new AreaVerification(sgc, $"component {c.Name} does not match its SGC checksums", null);
                }
            }
            catch (IOException ex)
            {
                return new AreaVerification(sgc, $"component {c.Name}: {ex.Message}", null);
            }
        }

        return new AreaVerification(sgc, null, checkConfiguration ? VerifyConfiguration(area) : null);
    }

    /// <summary>Checks the configuration files of an area.</summary>
    /// <param name="area">Area index.</param>
    /// <returns>Null when good, else the problem.</returns>
    public string? VerifyConfiguration(int area)
    {
        try
        {
            var names = List(area, AreaFolder.Configuration).Union(List(area, AreaFolder.ConfigurationBackup)).Append(ConfigurationFile.NodeName).Distinct();
            foreach (var name in names)
            {
                var data = ReadFile(area, AreaFolder.Configuration, name);
                if (data is null)
                {
                    return $"configuration {name} is missing";
                }

                ConfigurationFile.Parse(data);
            }

            return null;
        }
        catch (IOException ex)
        {
            return "configuration: " + ex.Message;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            _fs?.Dispose();
        }
        catch (IOException)
        {
            // Best effort on shutdown.
        }

        _fs = null;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>Operations of an atomic area change (see <see cref="NvsDevice.Atomically"/>).</summary>
public sealed class AreaTransaction
{
    private readonly FlashTransaction _txn;
    private readonly FlashFileSystem _fs;

    internal AreaTransaction(FlashTransaction txn, FlashFileSystem fs)
    {
        _txn = txn;
        _fs = fs;
    }

    /// <summary>Writes a file.</summary>
    /// <param name="area">Area index.</param>
    /// <param name="folder">Folder.</param>
    /// <param name="name">File name.</param>
    /// <param name="data">Content.</param>
    public void Write(int area, AreaFolder folder, string name, ReadOnlySpan<byte> data)
        => _txn.WriteAllBytes(NvsDevice.FolderPath(area, folder) + "/" + name, data);

    /// <summary>Deletes a file if it exists.</summary>
    /// <param name="area">Area index.</param>
    /// <param name="folder">Folder.</param>
    /// <param name="name">File name.</param>
    public void Delete(int area, AreaFolder folder, string name)
    {
        string path = NvsDevice.FolderPath(area, folder) + "/" + name;
        if (_fs.Exists(path))
        {
            _txn.Delete(path);
        }
    }
}

using Flash.Drivers;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Flash.Svm.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm;

/// <summary>
/// Software version management (SVM) on the node's software management processor: the only code that reads or
/// writes the node's non-volatile storage (NVS, a redundant pair of flash devices with current/alternate context
/// areas). It installs and upgrades software (full and partial), keeps configuration with backups, verifies and
/// repairs storage at init, issues the system-wide init command and runs trial boots with commit or rollback.
/// Not thread-safe: one caller (the management processor's control task) drives it; device access is serialised
/// by the access coordinator.
/// </summary>
public sealed partial class SoftwareVersionManager : IDisposable
{
    private readonly NvsDevice[] _devices;
    private readonly IModuleBus _bus;
    private readonly SvmOptions _options;
    private readonly ILogger _log;
    private readonly Dictionary<ModuleAddress, string> _loaded = [];
    private readonly HashSet<(NvsDevice, int)> _restricted = [];
    private int _primary = -1;
    private List<SvmEventArgs>? _capture;

    /// <summary>Creates the manager for two redundant storage devices and the module bus. Nothing is read until <see cref="Initialize"/> or <see cref="FormatAndInstall"/>.</summary>
    /// <param name="device0">First storage device.</param>
    /// <param name="device1">Second storage device.</param>
    /// <param name="bus">The module bus.</param>
    /// <param name="options">Options.</param>
    public SoftwareVersionManager(IFlashDevice device0, IFlashDevice device1, IModuleBus bus, SvmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device0);
        ArgumentNullException.ThrowIfNull(device1);
        ArgumentNullException.ThrowIfNull(bus);
        _options = options ?? new SvmOptions();
        _log = _options.Logger ?? NullLogger.Instance;
        _devices = [new NvsDevice("nvs0", device0, _log), new NvsDevice("nvs1", device1, _log)];
        _bus = bus;
    }

    /// <summary>Raised for every SVM event (storage, upgrade, configuration, boot, autonomous output messages).</summary>
    public event EventHandler<SvmEventArgs>? Event;

    /// <summary>The primary device (after init).</summary>
    public NvsDevice Primary => _primary >= 0 ? _devices[_primary] : throw new InvalidOperationException("Storage has not been initialised.");

    /// <summary>The secondary device (after init).</summary>
    public NvsDevice Secondary => _devices[1 - PrimaryIndex];

    /// <summary>Both devices, in physical order.</summary>
    public IReadOnlyList<NvsDevice> Devices => _devices;

    private int PrimaryIndex => _primary >= 0 ? _primary : throw new InvalidOperationException("Storage has not been initialised.");

    /// <summary>The primary's context table.</summary>
    /// <returns>The table.</returns>
    public NvsTable ReadTable() => Primary.ReadTable(out var error) ?? throw new NvsUnavailableException($"{Primary}: context table unreadable: {error}");

    /// <summary>The SGC file of the current context.</summary>
    /// <returns>The SGC file.</returns>
    public SgcFile CurrentSgc()
    {
        var t = ReadTable();
        return SgcFile.Parse(Primary.ReadSgc(t.CurrentArea) ?? throw new NvsUnavailableException("The current context has no SGC file."));
    }

    /// <summary>
    /// Formats both devices and installs a release as the current context (factory installation), with the given
    /// configuration (the factory defaults when empty).
    /// </summary>
    /// <param name="package">The package file.</param>
    /// <param name="configuration">Initial configuration files.</param>
    /// <exception cref="PackageRejectedException">The package is not acceptable; nothing was written.</exception>
    public void FormatAndInstall(byte[] package, IEnumerable<ConfigurationFile>? configuration = null)
    {
        var pkg = OpenPackage(package);
        var config = (configuration ?? _options.FactoryDefaults.Values).ToList();
        InstallFresh(pkg, config);
    }

    private void InstallFresh(SoftwarePackage pkg, List<ConfigurationFile> config)
    {
        var table = new NvsTable { Sequence = 1, Role = NvsRole.Primary, CurrentArea = 0, Alternate = AlternateState.Empty, CurrentRelease = pkg.Release };
        _primary = 0;
        foreach (var dev in _devices)
        {
            dev.Format();
            foreach (var c in pkg.Sgc.Components)
            {
                dev.WriteFile(0, AreaFolder.Components, c.Name, pkg.Component(c.Name).Span);
            }

            foreach (var cfg in config)
            {
                dev.WriteFile(0, AreaFolder.Configuration, cfg.Name, cfg.ToBytes());
            }

            dev.WriteSgc(0, pkg.SgcBytes.Span);
            var v = dev.Verify(0, checkConfiguration: config.Count > 0);
            if (!v.SoftwareOk)
            {
                throw new NvsUnavailableException($"{dev}: installation does not verify: {v.SoftwareError}");
            }

            dev.WriteTable(table with { Role = dev == _devices[0] ? NvsRole.Primary : NvsRole.Secondary });
        }

        _loaded.Clear();
        Raise(SvmEvents.UpgradeCompleted, LogLevel.Information, $"Installed release {pkg.Release} on {_devices[0]} and {_devices[1]}");
    }

    private SoftwarePackage OpenPackage(byte[] package)
    {
        try
        {
            return SoftwarePackage.Open(package, _options.Packages);
        }
        catch (PackageRejectedException ex)
        {
            Raise(SvmEvents.PackageRejected, LogLevel.Error, ex.Message);
            throw;
        }
    }

    private byte[] Fetch(TransferParameters transfer, CancellationToken cancellationToken)
    {
        var source = _options.Sources.FirstOrDefault(s => s.Kind == transfer.Source)
            ?? throw new SvmException($"No software source of kind '{transfer.Source}' is configured.");
        return source.Fetch(transfer, _options.Packages.MaxPackageSize, cancellationToken);
    }

    /// <summary>Writes a new table to the primary, then the same table (as secondary) to the secondary.</summary>
    private NvsTable UpdateTables(Func<NvsTable, NvsTable> change)
    {
        var t = change(ReadTable());
        t = t with { Sequence = t.Sequence + 1, Role = NvsRole.Primary };
        Primary.WriteTable(t);
        Secondary.WriteTable(t with { Role = NvsRole.Secondary });
        return t;
    }

    private void CheckNotRestricted(NvsDevice device, int area)
    {
        if (_restricted.Contains((device, area)))
        {
            throw new NvsAccessRestrictedException($"{device} area {area} is restricted while it is copied to the secondary device.");
        }
    }

    private sealed class Restriction(HashSet<(NvsDevice, int)> set, (NvsDevice, int) key) : IDisposable
    {
        public void Dispose() => set.Remove(key);
    }

    private Restriction Restrict(NvsDevice device, int area)
    {
        _restricted.Add((device, area));
        return new Restriction(_restricted, (device, area));
    }

    /// <summary>Copies one area from one device to another (SGC file last), then verifies the copy.</summary>
    private void CopyArea(NvsDevice from, NvsDevice to, int area, IProgress<UpgradeProgress>? progress, CancellationToken cancellationToken)
    {
        CheckNotRestricted(to, area);
        to.ClearArea(area);
        var names = from.List(area, AreaFolder.Components);
        long total = 0;
        try
        {
            total = from.ReadSgc(area) is { } sgcBytes ? SgcFile.Parse(sgcBytes).TotalSize : 0;
        }
        catch (SvmFormatException)
        {
            total = 0;
        }

        long done = 0;
        int i = 0;
        foreach (var name in names)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var data = from.ReadFile(area, AreaFolder.Components, name)!;
            to.WriteFile(area, AreaFolder.Components, name, data);
            done += data.Length;
            progress?.Report(new UpgradeProgress("copy-secondary", done, Math.Max(done, total), ++i, names.Count));
        }

        foreach (var folder in new[] { AreaFolder.Configuration, AreaFolder.ConfigurationBackup })
        {
            foreach (var name in from.List(area, folder))
            {
                to.WriteFile(area, folder, name, from.ReadFile(area, folder, name)!);
            }
        }

        var sgc = from.ReadSgc(area);
        if (sgc is not null)
        {
            to.WriteSgc(area, sgc);
            var v = to.Verify(area, checkConfiguration: false);
            if (!v.SoftwareOk)
            {
                throw new SvmException($"{to} area {area} does not verify after the copy: {v.SoftwareError}");
            }
        }
    }

    private void Raise(EventId id, LogLevel level, string message, ModuleAddress? module = null, string? device = null)
    {
        _log.Log(level, id, "{Message}", message);
        var e = new SvmEventArgs(id, message, module, device);
        _capture?.Add(e);
        Event?.Invoke(this, e);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var d in _devices)
        {
            d.Dispose();
        }
    }
}

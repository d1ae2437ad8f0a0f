using Flash.Drivers;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Flash.Svm.Configuration;
using Flash.Svm.Node;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm;

/// <summary>
/// Software version management (SVM) on the node's software management processor: the only code that reads or
/// writes the node's non-volatile storage (NVS). Storage is the shared Flash.Ffs layer: a <see cref="RedundantPair"/>
/// of two devices, each a <see cref="ContextStore"/> with current/alternate context areas. SVM installs and upgrades
/// software (full and partial), keeps configuration with backups, verifies and repairs storage at init, issues the
/// system-wide init command and runs trial boots with commit or rollback.
/// Not thread-safe: one caller (the management processor's control task) drives it; device access is serialised by
/// the pair's gates.
/// </summary>
public sealed partial class SoftwareVersionManager : IDisposable
{
    private readonly IFlashDevice[] _raw;
    private readonly IModuleBus _bus;
    private readonly SvmOptions _options;
    private readonly ILogger _log;
    private readonly Dictionary<ModuleAddress, string> _loaded = [];
    private RedundantPair? _pair;
    private List<SvmEventArgs>? _capture;

    /// <summary>Creates the manager for two redundant storage devices and the module bus. Nothing is read until <see cref="Initialize"/> or <see cref="FormatAndInstall"/>.</summary>
    /// <param name="device0">First storage device ("nvs0").</param>
    /// <param name="device1">Second storage device ("nvs1").</param>
    /// <param name="bus">The module bus.</param>
    /// <param name="options">Options.</param>
    public SoftwareVersionManager(IFlashDevice device0, IFlashDevice device1, IModuleBus bus, SvmOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device0);
        ArgumentNullException.ThrowIfNull(device1);
        ArgumentNullException.ThrowIfNull(bus);
        _options = options ?? new SvmOptions();
        _log = _options.Logger ?? (ILogger?)_options.LoggerFactory?.CreateLogger<SoftwareVersionManager>() ?? NullLogger.Instance;
        _raw = [device0, device1];
        _bus = bus;
    }

    /// <summary>Raised for every SVM event (storage, upgrade, configuration, boot, autonomous output messages).</summary>
    public event EventHandler<SvmEventArgs>? Event;

    /// <summary>The redundant pair SVM stores everything on (after init).</summary>
    public RedundantPair Storage => _pair ?? throw new InvalidOperationException("Storage has not been initialised.");

    /// <summary>The primary device (after init).</summary>
    public PairMember Primary => Storage.Primary;

    /// <summary>The secondary device (after init).</summary>
    public PairMember Secondary => Storage.Secondary;

    /// <summary>Both devices (after init).</summary>
    public IReadOnlyList<PairMember> Devices => Storage.Members;

    /// <summary>The name of a device: "nvs0" for the first device given to the constructor, "nvs1" for the second.</summary>
    /// <param name="member">A device of the pair.</param>
    /// <returns>The name.</returns>
    public string NameOf(PairMember member) => NameOf(member.Device);

    private string NameOf(IFlashDevice device) => ReferenceEquals(device is Init.FencedDevice f ? f.Real : device, _raw[0]) ? "nvs0" : "nvs1";

    /// <summary>The pair's (primary's) context table.</summary>
    /// <returns>The table.</returns>
    public ContextTable ReadTable() => Storage.Table;

    /// <summary>The SGC file of the current context.</summary>
    /// <returns>The SGC file.</returns>
    public SgcFile CurrentSgc() => SgcFile.Parse(TryReadCurrent(SvmLayout.Sgc) ?? throw new NvsUnavailableException("The current context has no SGC file."));

    /// <summary>
    /// Formats both devices and installs a release as the current context (factory installation), with the given
    /// configuration files plus every factory default (<see cref="SvmOptions.FactoryDefaults"/>) not given; a node
    /// configuration is required (given or a factory default).
    /// </summary>
    /// <param name="package">The package file.</param>
    /// <param name="configuration">Initial configuration files.</param>
    /// <exception cref="PackageRejectedException">The package is not acceptable; nothing was written.</exception>
    /// <exception cref="ConfigurationUnavailableException">No node configuration is given and none is a factory default; nothing was written.</exception>
    public void FormatAndInstall(byte[] package, IEnumerable<ConfigurationFile>? configuration = null)
    {
        var pkg = OpenPackage(package);
        var config = (configuration ?? []).ToList();
        if (config.Select(c => c.Name).Distinct(StringComparer.Ordinal).Count() != config.Count)
        {
            throw new ArgumentException("A configuration is given twice.", nameof(configuration));
        }

        // Every factory default not given explicitly is installed too; without a node configuration the node could not boot.
        config.AddRange(_options.FactoryDefaults.Values.Where(f => config.All(c => c.Name != f.Name)));
        if (config.All(c => c.Name != ConfigurationFile.NodeName))
        {
            throw new ConfigurationUnavailableException(ConfigurationFile.NodeName, "FormatAndInstall needs a node configuration (given, or in SvmOptions.FactoryDefaults); nothing was written.");
        }

        InstallFresh(pkg, config);
    }

    private void InstallFresh(SoftwarePackage pkg, List<ConfigurationFile> config)
    {
        ClosePair();
        RedundantPair.Format(_raw[0], _raw[1], _options.PairId);
        Raise(SvmEvents.DeviceFormatted, LogLevel.Information, "nvs0 and nvs1 formatted as a redundant pair");
        OpenPair(RedundantPair.Mount(_raw[0], _raw[1], PairOptions(null)));

        // One atomic commit per device: components, configuration and the SGC file of the new software set.
        var files = new List<KeyValuePair<string, byte[]>>();
        foreach (var c in pkg.Sgc.Components)
        {
            files.Add(new(SvmLayout.Component(c.Name), pkg.Component(c.Name).ToArray()));
        }

        foreach (var cfg in config)
        {
            files.Add(new(SvmLayout.Configuration(cfg.Name), cfg.ToBytes()));
        }

        files.Add(new(SvmLayout.SecurityState, new Security.SecurityState(pkg.Sgc.SecurityCounter).Encode()));
        files.Add(new(SvmLayout.Sgc, pkg.SgcBytes.ToArray()));
        var pair = Storage;
        pair.WriteAlternate(files);
        pair.MarkAlternateComplete(pkg.Release.ToString());
        pair.SwitchContexts();
        if (pair.IsDegraded)
        {
            throw new NvsUnavailableException("A storage device failed during the installation.");
        }

        _loaded.Clear();
        Raise(SvmEvents.UpgradeCompleted, LogLevel.Information, $"Installed release {pkg.Release} on nvs0 and nvs1");
    }

    private RedundantPairOptions PairOptions(IProgress<PairSyncProgress>? progress) => new()
    {
        Logger = _options.Logger,
        LoggerFactory = _options.LoggerFactory,
        Progress = progress,
    };

    private void OpenPair(RedundantPair pair)
    {
        _pair = pair;
        pair.Redesignated += (_, e) =>
        {
            var p = pair.Members.FirstOrDefault(m => m.DeviceId == e.PrimaryId);
            Raise(SvmEvents.Redesignated, LogLevel.Warning, $"{(p is null ? "?" : NameOf(p))} is designated primary (designation generation {e.Generation})", device: p is null ? null : NameOf(p));
        };
        pair.HealthChanged += (_, e) =>
        {
            var m = pair.Members.FirstOrDefault(x => x.DeviceId == e.DeviceId);
            if (e.IsDegraded)
            {
                Raise(SvmEvents.DeviceBad, LogLevel.Warning, $"{(m is null ? "device" : NameOf(m))} out of service: {e.Reason}", device: m is null ? null : NameOf(m));
            }
        };
    }

    private void ClosePair()
    {
        if (_pair is null)
        {
            return;
        }

        try
        {
            _pair.Dispose();
        }
        catch (IOException)
        {
            // A failed device may not write its final checkpoint; mounting recovers from flash.
        }

        _pair = null;
    }

    private byte[]? TryReadCurrent(string path)
    {
        try
        {
            return Storage.ReadCurrent(path);
        }
        catch (FlashPathNotFoundException)
        {
            return null;
        }
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
        => SourceOf(transfer).Fetch(transfer, _options.Packages.MaxPackageSize, cancellationToken);

    /// <summary>The source a synchronous command reads from; an asynchronous (network) source is refused here, before any transfer.</summary>
    private ISoftwareSource SourceOf(TransferParameters transfer)
    {
        var source = _options.Sources.FirstOrDefault(s => s.Kind == transfer.Source)
            ?? throw new SvmException($"No software source of kind '{transfer.Source}' is configured.");
        return source is IAsyncStreamingSoftwareSource
            ? throw new SvmException($"The '{transfer.Source}' source transfers asynchronously: only the asynchronous upgrade command (UpgradeAsync) uses it, not a synchronous command or the recovery at init.")
            : source;
    }

    /// <summary>Verifies an area of one device: the SGC file's checksum, every component against it, and (optionally) the configuration.</summary>
    /// <param name="member">The device.</param>
    /// <param name="area">The area.</param>
    /// <param name="checkConfiguration">Also check the configuration files.</param>
    /// <returns>The result.</returns>
    public AreaVerification Verify(PairMember member, ContextArea area, bool checkConfiguration)
    {
        ArgumentNullException.ThrowIfNull(member);
        var pair = Storage;
        return Init.AreaChecker.Check(p => OnMember(() => pair.TryRead(member, area, p)), () => OnMember(() => pair.List(member, area)), checkConfiguration);
    }

    /// <summary>A device whose file system faulted (it died) reads as an I/O error, so verification reports it bad.</summary>
    private static T OnMember<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (ObjectDisposedException ex)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    private void Raise(EventId id, LogLevel level, string message, ModuleAddress? module = null, string? device = null)
    {
        _log.Log(level, id, "{Message}", message);
        Diagnostics.SvmMetrics.Record(id);
        var e = new SvmEventArgs(id, message, module, device);
        _capture?.Add(e);
        Event?.Invoke(this, e);
    }

    /// <inheritdoc />
    public void Dispose() => ClosePair();
}

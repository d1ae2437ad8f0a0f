using Flash.Svm.Configuration;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    private BootReport? _awaitingConfiguration;

    /// <summary>The configurations and choices init is waiting for (claim 54), or null when it is not waiting.</summary>
    public ConfigurationUnavailable? PendingConfiguration => _awaitingConfiguration?.ConfigurationUnavailable;

    /// <summary>
    /// The operator's choice while init waits for a configuration: restores the factory default of every missing
    /// configuration on both devices (one commit each), then finishes init (secondary check, trial boot, system-wide
    /// init command).
    /// </summary>
    /// <param name="cancellationToken">Cancels the rest of init.</param>
    /// <returns>The report of the init that waited, now complete.</returns>
    /// <exception cref="InvalidOperationException">Init is not waiting for a configuration.</exception>
    /// <exception cref="ConfigurationUnavailableException">A missing configuration has no factory default; nothing was written and init still waits.</exception>
    public BootReport RestoreFactoryDefaults(CancellationToken cancellationToken = default)
    {
        var report = RequireAwaiting();
        var names = report.ConfigurationUnavailable!.Names;
        var missing = names.Where(n => !_options.FactoryDefaults.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new ConfigurationUnavailableException(missing[0], $"No factory default exists for {string.Join(", ", missing)}; supply the configuration instead.");
        }

        return Resume(report, () =>
        {
            Storage.WriteCurrentConfiguration(names.Select(n => new KeyValuePair<string, byte[]>(SvmLayout.Configuration(n), _options.FactoryDefaults[n].ToBytes())).ToList(), cancellationToken);
            foreach (var n in names)
            {
                Raise(SvmEvents.ConfigurationFactoryDefault, LogLevel.Warning, $"Configuration {n} restored to the factory default, as the operator chose");
            }

            report.Configuration = ConfigurationSource.FactoryDefault;
        }, cancellationToken);
    }

    /// <summary>
    /// The operator's choice while init waits for a configuration: stores the given configuration files on both
    /// devices (one commit each). When they cover every missing configuration, init finishes; otherwise it goes on
    /// waiting for the rest (see <see cref="BootReport.ConfigurationUnavailable"/>).
    /// </summary>
    /// <param name="configuration">The configuration files.</param>
    /// <param name="cancellationToken">Cancels the rest of init.</param>
    /// <returns>The report of the init that waited: complete, or still waiting for the configurations not supplied.</returns>
    /// <exception cref="InvalidOperationException">Init is not waiting for a configuration.</exception>
    /// <exception cref="ArgumentException">No configuration was given, or a name appears twice; nothing was written.</exception>
    public BootReport SupplyConfiguration(IEnumerable<ConfigurationFile> configuration, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var report = RequireAwaiting();
        var files = configuration.ToList();
        if (files.Count == 0 || files.Any(f => f is null) || files.Select(f => f.Name).Distinct(StringComparer.Ordinal).Count() != files.Count)
        {
            throw new ArgumentException("Supply at least one configuration file, each name once.", nameof(configuration));
        }

        var remaining = report.ConfigurationUnavailable!.Names.Except(files.Select(f => f.Name), StringComparer.Ordinal).ToList();
        void Store()
        {
            Storage.WriteCurrentConfiguration(files.Select(f => new KeyValuePair<string, byte[]>(SvmLayout.Configuration(f.Name), f.ToBytes())).ToList(), cancellationToken);
            foreach (var f in files)
            {
                Raise(SvmEvents.ConfigurationSupplied, LogLevel.Warning, $"Configuration {f.Name} revision {f.Revision} supplied by the operator");
            }
        }

        if (remaining.Count > 0)
        {
            Capture(report, () =>
            {
                Store();
                Await(report, remaining);
            });
            return report;
        }

        return Resume(report, () =>
        {
            Store();
            report.Configuration = ConfigurationSource.Supplied;
        }, cancellationToken);
    }

    /// <summary>Step 4 of init: restores what the policy allows; false (the node waits) when a configuration is left that only the operator can resolve.</summary>
    private bool ResolveConfiguration(BootReport report)
    {
        _awaitingConfiguration = null;
        var unresolved = new List<string>();
        report.Configuration = RestoreConfiguration(unresolved);
        if (unresolved.Count == 0)
        {
            return true;
        }

        Await(report, unresolved);
        return false;
    }

    private void Await(BootReport report, IReadOnlyList<string> names)
    {
        var choices = new List<ConfigurationChoice>(2);
        if (names.All(_options.FactoryDefaults.ContainsKey))
        {
            choices.Add(ConfigurationChoice.RestoreFactoryDefaults);
        }

        choices.Add(ConfigurationChoice.SupplyConfiguration);
        report.ConfigurationUnavailable = new ConfigurationUnavailable(names, choices);
        _awaitingConfiguration = report;
        Raise(SvmEvents.ConfigurationChoiceRequired, LogLevel.Critical,
            $"No usable configuration or backup for {string.Join(", ", names)}; waiting for the operator ({string.Join(" or ", choices)}); software verified, modules not started");
    }

    private BootReport RequireAwaiting()
        => _awaitingConfiguration ?? throw new InvalidOperationException("Init is not waiting for a configuration.");

    private BootReport Resume(BootReport report, Action store, CancellationToken cancellationToken)
    {
        Capture(report, () =>
        {
            store();
            _awaitingConfiguration = null;
            report.ConfigurationUnavailable = null;
            CompleteInitialization(report, cancellationToken);
        });
        return report;
    }

    /// <summary>Runs a step of init with its events collected into the report, as <see cref="Initialize"/> does.</summary>
    private void Capture(BootReport report, Action step)
    {
        var events = new List<SvmEventArgs>();
        _capture = events;
        try
        {
            step();
        }
        finally
        {
            _capture = null;
            foreach (var e in events)
            {
                report.Events.Add(e);
            }
        }
    }
}

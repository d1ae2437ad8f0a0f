using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Diagnostics;

/// <summary>
/// The instruments of Flash.Svm (meter <c>Flash.Svm</c>): upgrades, trial boots, rollbacks, configuration
/// fallbacks and storage repairs, counted from the events SVM raises (one software version manager runs per node,
/// so the measurements are node-wide; the storage devices' own instruments carry the device tags).
/// docs/observability.md lists every instrument.
/// </summary>
public static class SvmMetrics
{
    /// <summary>The meter name to subscribe to (OpenTelemetry: <c>AddMeter("Flash.Svm")</c>).</summary>
    public const string MeterName = "Flash.Svm";

    private static readonly Meter s_meter = new(MeterName, "1.0");
    private static readonly Counter<long> s_upgrades = s_meter.CreateCounter<long>("flash.svm.upgrades", "{upgrade}", "Upgrades by outcome (tag flash.outcome = started, completed or failed)");
    private static readonly Counter<long> s_rejected = s_meter.CreateCounter<long>("flash.svm.packages.rejected", "{package}", "Software packages rejected (bad format, signature, checksum, rollback)");
    private static readonly Counter<long> s_trials = s_meter.CreateCounter<long>("flash.svm.trials", "{trial}", "Trial boots by outcome (tag flash.outcome = started, retried, committed or rolled_back)");
    private static readonly Counter<long> s_rollbacks = s_meter.CreateCounter<long>("flash.svm.rollbacks", "{rollback}", "Returns to the previous release after a failed or interrupted trial");
    private static readonly Counter<long> s_fallbacks = s_meter.CreateCounter<long>("flash.svm.configuration.fallbacks", "{file}", "Configuration files restored at init (tag flash.source = backup or factory_default; failed when neither was usable)");
    private static readonly Counter<long> s_storage = s_meter.CreateCounter<long>("flash.svm.storage.events", "{event}", "Storage events at init (tag flash.event = device_bad, redesignated, repaired, resynchronised, recovered)");

    // Which counter (and tag) each event adds to; built from SvmEvents so the ids live in one place.
    private static readonly Dictionary<int, (Counter<long> Counter, KeyValuePair<string, object?>? Tag)[]> s_byEvent = new()
    {
        [SvmEvents.UpgradeStarted.Id] = [(s_upgrades, Tag("flash.outcome", "started"))],
        [SvmEvents.UpgradeCompleted.Id] = [(s_upgrades, Tag("flash.outcome", "completed"))],
        [SvmEvents.UpgradeFailed.Id] = [(s_upgrades, Tag("flash.outcome", "failed"))],
        [SvmEvents.PackageRejected.Id] = [(s_rejected, null)],
        [SvmEvents.TrialStarted.Id] = [(s_trials, Tag("flash.outcome", "started"))],
        [SvmEvents.TrialRetry.Id] = [(s_trials, Tag("flash.outcome", "retried"))],
        [SvmEvents.Committed.Id] = [(s_trials, Tag("flash.outcome", "committed"))],
        [SvmEvents.RolledBack.Id] = [(s_trials, Tag("flash.outcome", "rolled_back")), (s_rollbacks, null)],
        [SvmEvents.ConfigurationFromBackup.Id] = [(s_fallbacks, Tag("flash.source", "backup"))],
        [SvmEvents.ConfigurationFactoryDefault.Id] = [(s_fallbacks, Tag("flash.source", "factory_default"))],
        [SvmEvents.ConfigurationFailed.Id] = [(s_fallbacks, Tag("flash.source", "failed"))],
        [SvmEvents.DeviceBad.Id] = [(s_storage, Tag("flash.event", "device_bad"))],
        [SvmEvents.Redesignated.Id] = [(s_storage, Tag("flash.event", "redesignated"))],
        [SvmEvents.DeviceRepaired.Id] = [(s_storage, Tag("flash.event", "repaired"))],
        [SvmEvents.Resynchronised.Id] = [(s_storage, Tag("flash.event", "resynchronised"))],
        [SvmEvents.Recovered.Id] = [(s_storage, Tag("flash.event", "recovered"))],
    };

    /// <summary>Counts one SVM event (called where SVM raises its events).</summary>
    /// <param name="id">The event id (see <see cref="SvmEvents"/>).</param>
    internal static void Record(EventId id)
    {
        if (!s_byEvent.TryGetValue(id.Id, out var targets))
        {
            return;
        }

        foreach (var (counter, tag) in targets)
        {
            if (tag is { } t)
            {
                counter.Add(1, t);
            }
            else
            {
                counter.Add(1);
            }
        }
    }

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);
}

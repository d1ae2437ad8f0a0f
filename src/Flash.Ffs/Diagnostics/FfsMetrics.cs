using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Runtime.CompilerServices;
using Flash.Ffs.Mirror;

namespace Flash.Ffs.Diagnostics;

/// <summary>
/// The instruments of Flash.Ffs (meter <c>Flash.Ffs</c>) for file systems and redundant pairs. File-system
/// measurements are tagged <c>flash.device</c> (the device's <c>FlashStatistics.DeviceName</c>) and
/// <c>flash.volume</c> (the volume id, 8 hex digits); pair measurements <c>flash.pair</c> (the pair id). Counters and
/// histograms are recorded where the work happens; gauges (free space, write amplification, erase counts) are read
/// from every mounted volume when a listener collects. With no listener a recording is one branch and allocates
/// nothing. docs/observability.md lists every instrument.
/// </summary>
public static class FfsMetrics
{
    /// <summary>The meter name to subscribe to (OpenTelemetry: <c>AddMeter("Flash.Ffs")</c>).</summary>
    public const string MeterName = "Flash.Ffs";

    private static readonly Meter s_meter = new(MeterName, "1.1");
    private static readonly Counter<long> s_userBytes = s_meter.CreateCounter<long>("flash.ffs.user.bytes_written", "By", "Payload bytes written by users");
    private static readonly Counter<long> s_gcPages = s_meter.CreateCounter<long>("flash.ffs.gc.pages_moved", "{page}", "Pages moved by garbage collection and wear levelling");
    private static readonly Counter<long> s_checkpoints = s_meter.CreateCounter<long>("flash.ffs.checkpoints", "{checkpoint}", "Checkpoints completed");
    private static readonly Counter<long> s_badBlocks = s_meter.CreateCounter<long>("flash.ffs.bad_blocks.retired", "{block}", "Blocks the file system retired as bad");
    private static readonly Histogram<double> s_operation = s_meter.CreateHistogram<double>("flash.ffs.operation.duration", "s", "Wall-clock time of file-system operations (tag flash.operation)");
    private static readonly Histogram<double> s_checkpoint = s_meter.CreateHistogram<double>("flash.ffs.checkpoint.duration", "s", "Wall-clock time of checkpoint writing (tag flash.checkpoint = full or step)");
    private static readonly Counter<long> s_heals = s_meter.CreateCounter<long>("flash.mirror.heals", "{file}", "Files repaired on one device of a pair from the other");
    private static readonly Counter<long> s_resyncs = s_meter.CreateCounter<long>("flash.mirror.resyncs", "{resync}", "Devices brought back into redundancy by a resynchronisation");
    private static readonly Counter<long> s_degradations = s_meter.CreateCounter<long>("flash.mirror.degradations", "{event}", "Times a device of a pair went out of service");
    private static readonly Counter<long> s_redesignations = s_meter.CreateCounter<long>("flash.mirror.redesignations", "{event}", "Times the other device was designated primary");

    private static readonly Lock s_lock = new();
    private static readonly List<WeakReference<FlashFileSystem>> s_volumes = [];
    private static int s_pruneAt = 64;
    private static readonly List<WeakReference<PairState>> s_pairs = [];
    private static readonly ConditionalWeakTable<FlashFileSystem, VolumeTags> s_tags = [];

    static FfsMetrics()
    {
        s_meter.CreateObservableGauge("flash.ffs.free_bytes", () => Observe(s => s.FreeBytes), "By", "Bytes free for new data");
        s_meter.CreateObservableGauge("flash.ffs.used_bytes", () => Observe(s => s.UsedBytes), "By", "Bytes of live file data");
        s_meter.CreateObservableGauge("flash.ffs.write_amplification", () => Observe(s => s.WriteAmplification), "1", "Flash bytes programmed per user byte written since mount");
        s_meter.CreateObservableGauge("flash.ffs.erase_count.max", () => Observe(s => s.EraseCountMax), "{erase}", "Highest erase count of a good block");
        s_meter.CreateObservableGauge("flash.ffs.erase_count.min", () => Observe(s => s.EraseCountMin), "{erase}", "Lowest erase count of a good block");
        s_meter.CreateObservableGauge("flash.ffs.erase_count.mean", () => Observe(s => s.EraseCountMean), "{erase}", "Mean erase count of the good blocks");
        s_meter.CreateObservableGauge("flash.ffs.bad_blocks", () => Observe(s => (long)s.BadBlocks), "{block}", "Blocks marked bad (factory and grown)");
        s_meter.CreateObservableGauge("flash.ffs.free_blocks", () => Observe(s => (long)s.FreeBlocks), "{block}", "Erased blocks ready for writing");
        s_meter.CreateObservableCounter("flash.ffs.gc.blocks_reclaimed", () => Observe(s => s.GcBlocksReclaimed), "{block}", "Blocks reclaimed by garbage collection since mount");
        s_meter.CreateObservableCounter("flash.ffs.wear_leveling.moves", () => Observe(s => s.WearLevelingMoves), "{block}", "Static wear-levelling moves since mount");
        s_meter.CreateObservableGauge("flash.mirror.degraded", () => ObservePairs(p => p.Degraded ? 1 : 0), "1", "1 while a pair runs on one device");
        s_meter.CreateObservableCounter("flash.mirror.degraded.time", () => ObservePairs(p => p.DegradedSeconds), "s", "Time a pair has run degraded since it was mounted");
    }

    /// <summary>Registers a mounted volume for the gauges.</summary>
    internal static void Track(FlashFileSystem fs)
    {
        lock (s_lock)
        {
            // Volumes that faulted (power cut, device failure) are never unmounted: drop them now and then so the
            // list stays as long as the volumes really mounted, whatever the number of mounts.
            if (s_volumes.Count >= s_pruneAt)
            {
                s_volumes.RemoveAll(w => !w.TryGetTarget(out var v) || !v.IsMounted);
                s_pruneAt = Math.Max(64, s_volumes.Count * 2);
            }

            s_volumes.Add(new WeakReference<FlashFileSystem>(fs));
        }
    }

    /// <summary>Removes an unmounted volume from the gauges.</summary>
    internal static void Untrack(FlashFileSystem fs)
    {
        lock (s_lock)
        {
            s_volumes.RemoveAll(w => !w.TryGetTarget(out var v) || ReferenceEquals(v, fs));
        }
    }

    internal static void UserBytesWritten(FlashFileSystem fs, long bytes)
    {
        if (s_userBytes.Enabled)
        {
            var t = TagsOf(fs);
            s_userBytes.Add(bytes, t.Device, t.Volume);
        }
    }

    internal static void GcPageMoved(FlashFileSystem fs)
    {
        if (s_gcPages.Enabled)
        {
            var t = TagsOf(fs);
            s_gcPages.Add(1, t.Device, t.Volume);
        }
    }

    internal static void CheckpointWritten(FlashFileSystem fs)
    {
        if (s_checkpoints.Enabled)
        {
            var t = TagsOf(fs);
            s_checkpoints.Add(1, t.Device, t.Volume);
        }
    }

    internal static void BadBlockRetired(FlashFileSystem fs)
    {
        if (s_badBlocks.Enabled)
        {
            var t = TagsOf(fs);
            s_badBlocks.Add(1, t.Device, t.Volume);
        }
    }

    /// <summary>Times an operation until the returned timer is disposed (<c>using var _ = FfsMetrics.Time(this, "write");</c>).</summary>
    internal static Timer Time(FlashFileSystem fs, string operation) => new(fs, "flash.operation", operation, s_operation);

    /// <summary>Times a checkpoint (<c>full</c>) or an incremental checkpoint step (<c>step</c>).</summary>
    internal static Timer TimeCheckpoint(FlashFileSystem fs, string kind) => new(fs, "flash.checkpoint", kind, s_checkpoint);

    /// <summary>Follows a mounted pair's events: heals, resyncs, degradations, redesignations and degraded time.</summary>
    internal static void TrackPair(RedundantPair pair)
    {
        var state = new PairState(pair);
        lock (s_lock)
        {
            s_pairs.RemoveAll(w => !w.TryGetTarget(out _));
            s_pairs.Add(new WeakReference<PairState>(state));
        }

        pair.SelfHealed += (_, _) => s_heals.Add(1, state.Tag);
        pair.Redesignated += (_, _) => s_redesignations.Add(1, state.Tag);
        pair.HealthChanged += (_, e) => state.OnHealth(e);
    }

    private static VolumeTags TagsOf(FlashFileSystem fs)
    {
        var tags = s_tags.GetValue(fs, static f => new VolumeTags(f));
        if (tags.VolumeId != fs.VolumeId)
        {
            // Formatted or mounted since the tags were made: the volume id changed.
            tags = new VolumeTags(fs);
            s_tags.AddOrUpdate(fs, tags);
        }

        return tags;
    }

    private static List<Measurement<T>> Observe<T>(Func<FileSystemStatistics, T> value)
        where T : struct
    {
        var list = new List<Measurement<T>>();
        foreach (var fs in Live())
        {
            try
            {
                var t = TagsOf(fs);
                list.Add(new Measurement<T>(value(fs.GetStatistics()), t.Device, t.Volume));
            }
            catch (Exception ex) when (ex is FlashFileSystemException or ObjectDisposedException)
            {
                // Unmounted or faulted between the snapshot and the read: nothing to report for it.
            }
        }

        return list;
    }

    private static List<Measurement<T>> ObservePairs<T>(Func<PairState, T> value)
        where T : struct
    {
        lock (s_lock)
        {
            var list = new List<Measurement<T>>();
            foreach (var w in s_pairs)
            {
                if (w.TryGetTarget(out var p) && p.IsLive)
                {
                    list.Add(new Measurement<T>(value(p), p.Tag));
                }
            }

            return list;
        }
    }

    private static List<FlashFileSystem> Live()
    {
        lock (s_lock)
        {
            s_volumes.RemoveAll(w => !w.TryGetTarget(out var v) || !v.IsMounted);
            return s_volumes.Select(w => w.TryGetTarget(out var v) ? v : null).OfType<FlashFileSystem>().ToList();
        }
    }

    /// <summary>Records the elapsed time of one operation when disposed; a struct, so timing allocates nothing.</summary>
    internal readonly struct Timer : IDisposable
    {
        private readonly FlashFileSystem? _fs;
        private readonly KeyValuePair<string, object?> _tag;
        private readonly Histogram<double>? _histogram;
        private readonly long _start;

        internal Timer(FlashFileSystem fs, string key, string name, Histogram<double> histogram)
        {
            if (histogram.Enabled)
            {
                _fs = fs;
                _tag = new(key, name);
                _histogram = histogram;
                _start = Stopwatch.GetTimestamp();
            }
        }

        public void Dispose()
        {
            if (_histogram is not null && _fs is not null)
            {
                var t = TagsOf(_fs);
                _histogram.Record(Stopwatch.GetElapsedTime(_start).TotalSeconds, t.Device, t.Volume, _tag);
            }
        }
    }

    private sealed class VolumeTags(FlashFileSystem fs)
    {
        public uint VolumeId { get; } = fs.VolumeId;

        public KeyValuePair<string, object?> Device { get; } = new("flash.device", fs.Device.Statistics.DeviceName);

        public KeyValuePair<string, object?> Volume { get; } = new("flash.volume", fs.VolumeId.ToString("X8", CultureInfo.InvariantCulture));
    }

    private sealed class PairState(RedundantPair pair)
    {
        private readonly WeakReference<RedundantPair> _pair = new(pair);
        private readonly HashSet<Guid> _down = [];
        private long _degradedSince;
        private double _degradedSeconds;

        private KeyValuePair<string, object?> _tag = new("flash.pair", "");
        private Guid _tagged = Guid.NewGuid();

        /// <summary>The pair's tag; the pair id is known only once the mount has read the designation records.</summary>
        public KeyValuePair<string, object?> Tag
        {
            get
            {
                if (_pair.TryGetTarget(out var p) && p.PairId != _tagged)
                {
                    _tagged = p.PairId;
                    _tag = new("flash.pair", p.PairId.ToString("N", CultureInfo.InvariantCulture));
                }

                return _tag;
            }
        }

        public bool IsLive => _pair.TryGetTarget(out _);

        public bool Degraded
        {
            get
            {
                lock (_down)
                {
                    return _down.Count > 0;
                }
            }
        }

        public double DegradedSeconds
        {
            get
            {
                lock (_down)
                {
                    return _degradedSeconds + (_down.Count > 0 ? Stopwatch.GetElapsedTime(_degradedSince).TotalSeconds : 0);
                }
            }
        }

        public void OnHealth(PairHealthEventArgs e)
        {
            lock (_down)
            {
                bool wasDegraded = _down.Count > 0;
                if (e.IsDegraded)
                {
                    if (_down.Add(e.DeviceId))
                    {
                        s_degradations.Add(1, Tag);
                    }
                }
                else if (_down.Remove(e.DeviceId))
                {
                    s_resyncs.Add(1, Tag);
                }

                if (!wasDegraded && _down.Count > 0)
                {
                    _degradedSince = Stopwatch.GetTimestamp();
                }
                else if (wasDegraded && _down.Count == 0)
                {
                    _degradedSeconds += Stopwatch.GetElapsedTime(_degradedSince).TotalSeconds;
                }
            }
        }
    }
}

using Flash.Ffs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flash.Hosting;

/// <summary>
/// Runs <see cref="FlashFileSystem.Maintain"/> on every registered volume in idle time: bounded steps
/// (<see cref="FlashMaintenanceOptions.MaxPagesPerStep"/>) with a pause between them while work remains, then a
/// longer pause once every volume reports no work. Foreground operations wait at most one step.
/// </summary>
public sealed partial class FlashMaintenanceService : BackgroundService
{
    private readonly IEnumerable<FlashVolume> _volumes;
    private readonly IOptionsMonitor<FlashMaintenanceOptions> _options;
    private readonly ILogger<FlashMaintenanceService> _log;
    private readonly TimeProvider _time;

    /// <summary>Creates the service (the container does).</summary>
    /// <param name="volumes">The registered volumes.</param>
    /// <param name="options">Step size and pauses.</param>
    /// <param name="log">Logger; nothing is logged when null.</param>
    /// <param name="time">Clock for the pauses; the system clock when null.</param>
    public FlashMaintenanceService(IEnumerable<FlashVolume> volumes, IOptionsMonitor<FlashMaintenanceOptions> options, ILogger<FlashMaintenanceService>? log = null, TimeProvider? time = null)
    {
        _volumes = volumes ?? throw new ArgumentNullException(nameof(volumes));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _log = log ?? NullLogger<FlashMaintenanceService>.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Maintenance steps run so far (all volumes).</summary>
    public long Steps { get; private set; }

    /// <summary>Runs one step on every mounted volume.</summary>
    /// <param name="maxPages">Pages each step may move.</param>
    /// <returns>Whether any volume has work left.</returns>
    public bool RunOnce(int maxPages)
    {
        bool workLeft = false;
        foreach (var volume in _volumes)
        {
            var fs = volume.FileSystem;
            if (!fs.IsMounted)
            {
                continue;
            }

            try
            {
                var report = fs.Maintain(new MaintenanceBudget(MaxPages: maxPages));
                Steps++;
                workLeft |= report.RemainingWork > 0;
                if (report.PagesMoved > 0 || report.BlocksErased > 0 || report.CheckpointWritten)
                {
                    LogStep(volume.Name, report.PagesMoved, report.BlocksErased, report.CheckpointWritten, report.RemainingWork);
                }
            }
            catch (FlashReadOnlyException)
            {
                // A read-only volume has nothing to maintain.
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
                LogFailed(ex, volume.Name);
            }
        }

        return workLeft;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.CurrentValue.Enabled)
        {
            return;
        }

        LogStarted(_volumes.Count());
        while (!stoppingToken.IsCancellationRequested)
        {
            var o = _options.CurrentValue;
            bool workLeft = RunOnce(o.MaxPagesPerStep);
            try
            {
                await Task.Delay(workLeft ? o.BusyInterval : o.IdleInterval, _time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Flash maintenance started for {Volumes} volume(s)")]
    private partial void LogStarted(int volumes);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Debug, Message = "Maintenance of {Volume}: {Pages} pages moved, {Blocks} blocks erased, checkpoint {Checkpoint}, {Remaining} work left")]
    private partial void LogStep(string volume, int pages, int blocks, bool checkpoint, long remaining);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "Maintenance of {Volume} failed; the volume may need to be mounted again")]
    private partial void LogFailed(Exception ex, string volume);
}

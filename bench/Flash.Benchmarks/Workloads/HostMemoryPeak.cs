using System.Diagnostics;
using Flash.Drivers.Simulation;

namespace Flash.Benchmarks.Workloads;

/// <summary>
/// The host memory peak of the network benchmarks: the process working set, sampled every 10 ms, above the idle
/// node measured after a full collection at construction, minus what the simulators must hold for the blocks written
/// since (the simulated flash itself, copy-on-write per block). Stop it when the measured work ends.
/// </summary>
internal sealed class HostMemoryPeak : IDisposable
{
    private readonly FlashSimulator[] _devices;
    private readonly long _flashBefore;
    private readonly long _idle;
    private readonly Process _self = Process.GetCurrentProcess();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private long _peakOver;

    /// <summary>Collects, takes the idle baseline and starts sampling.</summary>
    /// <param name="devices">The simulators whose written blocks are excluded.</param>
    public HostMemoryPeak(params FlashSimulator[] devices)
    {
        _devices = devices;
        _flashBefore = FlashHeld();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        _self.Refresh();
        _idle = _self.WorkingSet64;
        // A sampling loop for the length of the measurement (a background loop, not work wrapped in a task).
        _sampler = Task.Run(SampleAsync);
    }

    /// <summary>The peak so far, in MiB.</summary>
    public double PeakMiB => Interlocked.Read(ref _peakOver) / (1024.0 * 1024.0);

    /// <summary>Bytes a simulator holds for written blocks (a block is copied on its first program).</summary>
    /// <param name="device">The simulator.</param>
    /// <returns>Bytes.</returns>
    public static long FlashBytes(FlashSimulator device)
    {
        var g = device.Geometry;
        long blocks = 0;
        for (int b = 0; b < g.BlockCount; b++)
        {
            if (device.WearOf(b) > 0 || device.ProgramCountOf(b * g.PagesPerBlock) > 0 || device.ProgramCountOf(((b + 1) * g.PagesPerBlock) - 1) > 0)
            {
                blocks++;
            }
        }

        return blocks * g.PagesPerBlock * (g.PageSize + g.SpareSize);
    }

    /// <summary>Stops sampling (the peak stays readable).</summary>
    public void Stop()
    {
        if (!_stop.IsCancellationRequested)
        {
            _stop.Cancel();
            _sampler.Wait();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Stop();
        _stop.Dispose();
        _self.Dispose();
    }

    private long FlashHeld() => _devices.Sum(FlashBytes);

    private async Task SampleAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            _self.Refresh();
            var over = _self.WorkingSet64 - _idle - (FlashHeld() - _flashBefore);
            if (over > Interlocked.Read(ref _peakOver))
            {
                Interlocked.Exchange(ref _peakOver, over);
            }

            try
            {
                await Task.Delay(10, _stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

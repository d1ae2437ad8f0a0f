using System.Security.Cryptography;
using Flash.Svm.Node;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm.Network.Bus;

/// <summary>
/// The SMP's view of one network-booted module on the <see cref="NetworkModuleBus"/>: the init command goes out as
/// a datagram, and health is what the module last reported for that command. The module loads its components itself
/// (by TFTP from the context being booted), so <see cref="LoadComponent"/> is not used on this bus.
/// </summary>
public sealed class NetworkModule : IProcessorModule
{
    private readonly NetworkModuleBus _bus;
    private readonly ModuleSlot _slot;
    private readonly object _lock = new();
    private uint _sequence;
    private ModuleControlMessage? _last;
    private IReadOnlyList<SgcComponent> _components = [];

    internal NetworkModule(NetworkModuleBus bus, ModuleSlot slot)
    {
        _bus = bus;
        _slot = slot;
    }

    /// <inheritdoc />
    public ModuleAddress Address => _slot.Module;

    /// <summary>The release the module last reported running.</summary>
    public SoftwareVersion ReportedRelease
    {
        get
        {
            lock (_lock)
            {
                return _last?.Release ?? default;
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="NotSupportedException">Always: network modules fetch their components by TFTP.</exception>
    public void LoadComponent(SgcComponent component, ReadOnlyMemory<byte> image) =>
        throw new NotSupportedException($"{Address} loads its components over the network (TFTP), not through the bus.");

    /// <inheritdoc />
    /// <exception cref="TimeoutException">The module did not acknowledge the init command (it counts as crashed).</exception>
    public void Initialize(IModuleInitContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        uint seq;
        lock (_lock)
        {
            seq = ++_sequence;
            _components = context.Components;
        }

        var init = new ModuleControlMessage(ModuleControlKind.Init, seq, Address, context.Release,
            Components: context.Components.Select(c => new InitComponent(c.Name, c.Size, c.Sha256)).ToList()).ToBytes();
        var options = _bus.Options;
        for (int attempt = 0; attempt < options.InitTries; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _bus.Log.LogInformation(NetworkEvents.ModuleInit, "Module bus: init command {Sequence} for release {Release} to {Module} ({Count} components)", seq, context.Release, Address, context.Components.Count);
            _bus.Send(_slot, init);
            lock (_lock)
            {
                var end = DateTime.UtcNow + options.InitAckTimeout;
                while (_last is null || _last.Sequence != seq)
                {
                    var left = end - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero)
                    {
                        break;
                    }

                    Monitor.Wait(_lock, left);
                }

                if (_last is not null && _last.Sequence == seq)
                {
                    return;
                }
            }
        }

        throw new TimeoutException($"{Address} did not acknowledge the init command.");
    }

    /// <inheritdoc />
    public ModuleHealth ReportHealth()
    {
        lock (_lock)
        {
            // Before it answers the current init command the module is not running that command's software.
            return _last is null ? ModuleHealth.Down : _last.Sequence == _sequence ? _last.Health : ModuleHealth.Starting;
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<ProgrammableDeviceStatus> ProgrammableDevices()
    {
        lock (_lock)
        {
            return _last?.Health == ModuleHealth.Healthy && _last.Sequence == _sequence
                ? _components.Where(c => c.IsProgrammableDevice).Select(c => new ProgrammableDeviceStatus(c.DeviceName, c.DeviceKind, c.Name, c.Version)).ToList()
                : [];
        }
    }

    internal void OnReport(ModuleControlMessage report)
    {
        lock (_lock)
        {
            if (_last is not null && report.Sequence < _last.Sequence)
            {
                return; // a late report of an earlier init
            }

            if (_last?.Health != report.Health || _last.Sequence != report.Sequence)
            {
                _bus.Log.LogInformation(NetworkEvents.ModuleHealth, "Module bus: {Module} reports {Health} (init {Sequence}, release {Release})", Address, report.Health, report.Sequence, report.Release);
            }

            _last = report;
            Monitor.PulseAll(_lock);
        }
    }

    internal static bool Verify(InitComponent c, ReadOnlySpan<byte> data) => data.Length == c.Size && SHA256.HashData(data).AsSpan().SequenceEqual(c.Sha256);
}

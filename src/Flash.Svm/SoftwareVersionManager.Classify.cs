using Flash.Drivers;
using Flash.Svm.Init;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    private DeviceFacts[] _facts = [];
    private InitPlan? _plan;

    /// <summary>The classification of the last <see cref="Initialize"/> (null before the first one).</summary>
    public InitPlan? LastPlan => _plan;

    /// <summary>Probes both devices read-only and classifies them (<see cref="InitPolicy.Classify"/>); reports every device that is not good.</summary>
    private InitPlan Plan(BootReport report)
    {
        _facts = [DeviceProber.Probe("nvs0", _raw[0]), DeviceProber.Probe("nvs1", _raw[1])];
        var plan = InitPolicy.Classify(_facts[0], _facts[1], _options.PairId, _options.AdoptForeignDevice);
        _plan = plan;
        report.Devices = plan.Devices;
        Raise(SvmEvents.DevicesClassified, LogLevel.Information, $"Storage classified: {plan}");
        foreach (var v in plan.Devices.Where(v => v.Condition != DeviceCondition.Good))
        {
            var level = v.Condition == DeviceCondition.Blank ? LogLevel.Information : LogLevel.Warning;
            Raise(v.Condition == DeviceCondition.Blank ? SvmEvents.DevicesClassified : SvmEvents.DeviceBad, level, $"{v.Name}: {v.Condition}: {v.Reason}", device: v.Name);
        }

        return plan;
    }

    /// <summary>The device the newest designation record of the node's pair named primary before this init, or null when none did.</summary>
    private IFlashDevice? DesignatedBefore(InitPlan plan)
    {
        var best = _facts.Where(f => f.PairId is { } p && p == plan.NodePairId).MaxBy(f => f.DesignationGeneration);
        if (best is null)
        {
            return null;
        }

        int i = Array.IndexOf(_facts, best);
        return best.DesignatedPrimary ? _raw[i] : _raw[1 - i];
    }

    /// <summary>The device given to the pair's mount for position <paramref name="index"/>: the real one, or a fence that refuses every access.</summary>
    private IFlashDevice Member(InitPlan plan, int index)
    {
        var verdict = plan.Devices[index];
        if (verdict.Action is DeviceAction.Fence or DeviceAction.Adopt)
        {
            var geometry = _facts[1 - index].DeadReason is null ? _facts[1 - index].Geometry : _facts[index].Geometry;
            return new FencedDevice(_raw[index], geometry, $"{verdict.Name} {verdict.Condition}: {verdict.Reason}");
        }

        return _raw[index];
    }

    /// <summary>Claims 65–68: no device can serve, so the operator must replace one; init stops.</summary>
    private void RequestReplacement(InitPlan plan)
    {
        var candidate = plan.Devices.FirstOrDefault(d => d.Condition is DeviceCondition.Dead or DeviceCondition.OtherGeometry) ?? plan.Devices[0];
        Raise(SvmEvents.ReplacementRequested, LogLevel.Critical, $"Storage device replacement requested: replace {candidate.Name} ({candidate.Condition}: {candidate.Reason}); {plan}", device: candidate.Name);
        Raise(SvmEvents.StorageUnavailable, LogLevel.Critical, $"No storage device can boot the node: {plan}");
        throw new NvsUnavailableException($"No storage device can boot the node: {plan}.");
    }

    /// <summary>A foreign device the operator allowed to adopt is formatted and filled from the primary, only after the node booted on its own device.</summary>
    private void AdoptForeign(InitPlan plan, BootReport report, CancellationToken cancellationToken)
    {
        for (int i = 0; i < 2; i++)
        {
            if (plan.Devices[i].Action != DeviceAction.Adopt || _pair is not { } pair || pair.Primary.Device is FencedDevice)
            {
                continue;
            }

            pair.ReplaceDevice(_raw[i], overwriteForeign: true, cancellationToken);
            Raise(SvmEvents.DeviceFormatted, LogLevel.Warning, $"{plan.Devices[i].Name}: foreign device adopted (formatted and filled from the primary)", device: plan.Devices[i].Name);
            AddRepaired(report, pair.Members.First(m => ReferenceEquals(m.Device, _raw[i])), SvmEvents.DeviceRepaired, "adopted from another pair and filled from the primary");
        }
    }
}

namespace Flash.Svm.Init;

/// <summary>
/// The init decision as a pure function: from what a read-only probe found on each device, which pair the node runs on,
/// what each device is (<see cref="DeviceCondition"/>), what is done with it (<see cref="DeviceAction"/>) and how init
/// proceeds (<see cref="InitStrategy"/>). Nothing here touches a device. The rule that matters: a device that holds the
/// node's pair is never formatted, and a device that does not belong to the node (foreign, other geometry, dead) is
/// never written unless the operator allowed adopting a foreign one. See <c>docs/boot.md</c>.
/// </summary>
public static class InitPolicy
{
    /// <summary>Classifies both devices and chooses the strategy.</summary>
    /// <param name="first">Facts of nvs0.</param>
    /// <param name="second">Facts of nvs1.</param>
    /// <param name="nodePairId">The node's pair id when known (<see cref="SvmOptions.PairId"/>); otherwise it is inferred (see remarks).</param>
    /// <param name="adoptForeign">Whether a device of another pair may be formatted and joined.</param>
    /// <returns>The plan.</returns>
    /// <remarks>
    /// Without <paramref name="nodePairId"/>, the node's pair is the only pair found; when the devices carry two
    /// different pairs it is the pair of the device with the better current context (software and configuration
    /// verified, then software verified), and nvs0's on a tie.
    /// </remarks>
    public static InitPlan Classify(DeviceFacts first, DeviceFacts second, Guid? nodePairId = null, bool adoptForeign = false)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        DeviceFacts[] facts = [first, second];
        var pair = nodePairId ?? InferPair(first, second);
        var reference = facts.Where(f => f.DeadReason is null && f.PairId is { } p && p == pair).OrderBy(Score).ThenBy(f => f.DesignatedPrimary ? 0 : 1).FirstOrDefault()
            ?? facts.FirstOrDefault(f => f.DeadReason is null) ?? first;
        var verdicts = facts.Select(f => Judge(f, reference, pair, adoptForeign)).ToArray();

        var members = verdicts.Zip(facts).Where(v => IsMember(v.First.Condition)).ToArray();
        if (members.Length == 0)
        {
            // Nothing of the node's pair survives: a fresh install is only possible when both devices may be written.
            bool bothWritable = verdicts.All(v => v.Action is DeviceAction.Fill or DeviceAction.Adopt);
            return new InitPlan(verdicts, bothWritable ? InitStrategy.Reinstall : InitStrategy.Unavailable, pair, null);
        }

        var withSoftware = members.Where(m => m.Second.SoftwareError is null).ToArray();
        if (withSoftware.Length > 0)
        {
            var best = withSoftware.OrderBy(m => m.First.Condition == DeviceCondition.Good ? 0 : 1).ThenBy(m => m.Second.DesignatedPrimary ? 0 : 1).First();
            return new InitPlan(verdicts, InitStrategy.Boot, pair, best.First.Name);
        }

        // Every member's software is bad: the current set is rebuilt (alternate, combination, download) on the device
        // whose configuration is good, so that configuration is what the node runs with.
        var keeper = members.OrderBy(m => m.Second.ConfigurationError is null ? 0 : 1).ThenBy(m => m.Second.DesignatedPrimary ? 0 : 1).First();
        return new InitPlan(verdicts, InitStrategy.Rebuild, pair, keeper.First.Name);
    }

    /// <summary>Whether a device with this condition holds the node's pair.</summary>
    /// <param name="condition">The condition.</param>
    /// <returns>True for good, bad software and bad configuration.</returns>
    public static bool IsMember(DeviceCondition condition) => condition is DeviceCondition.Good or DeviceCondition.BadSoftware or DeviceCondition.BadConfiguration;

    private static Guid? InferPair(DeviceFacts a, DeviceFacts b)
    {
        var carriers = new[] { a, b }.Where(f => f.DeadReason is null && f.PairId is not null).ToArray();
        if (carriers.Length == 0)
        {
            return null;
        }

        // One pair, or two: the carrier with the better current context decides (OrderBy is stable: nvs0 wins ties).
        return carriers.OrderBy(Score).First().PairId;
    }

    /// <summary>Lower is better: software and configuration verified, software verified, neither. Stable, so nvs0 wins ties.</summary>
    private static int Score(DeviceFacts f) => (f.SoftwareError is null ? 0 : 2) + (f.ConfigurationError is null ? 0 : 1);

    private static DeviceVerdict Judge(DeviceFacts f, DeviceFacts reference, Guid? pair, bool adoptForeign)
    {
        if (f.DeadReason is not null)
        {
            return new(f.Name, DeviceCondition.Dead, DeviceAction.Fence, f.DeadReason);
        }

        if (f.Geometry != reference.Geometry)
        {
            return new(f.Name, DeviceCondition.OtherGeometry, DeviceAction.Fence, $"geometry {f.Geometry} differs from {reference.Name}'s {reference.Geometry}");
        }

        if (f.PairId is null)
        {
            return new(f.Name, DeviceCondition.Blank, DeviceAction.Fill, "carries no pair");
        }

        if (f.PairId != pair)
        {
            return new(f.Name, DeviceCondition.Foreign, adoptForeign ? DeviceAction.Adopt : DeviceAction.Fence,
                $"belongs to pair {f.PairId:N}, not to the node's pair {pair:N}" + (adoptForeign ? "; adopted (formatted and joined)" : "; left untouched"));
        }

        if (f.TableSequence is null)
        {
            return new(f.Name, DeviceCondition.BadSoftware, DeviceAction.Use, "no valid context table");
        }

        if (f.SoftwareError is not null)
        {
            return new(f.Name, DeviceCondition.BadSoftware, DeviceAction.Use, f.SoftwareError + (f.ConfigurationError is null ? "" : "; " + f.ConfigurationError));
        }

        return f.ConfigurationError is not null
            ? new(f.Name, DeviceCondition.BadConfiguration, DeviceAction.Use, f.ConfigurationError)
            : new(f.Name, DeviceCondition.Good, DeviceAction.Use, "");
    }
}

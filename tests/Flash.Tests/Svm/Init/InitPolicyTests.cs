using Flash.Drivers;
using Flash.Svm.Init;

namespace Flash.Tests.Svm.Init;

/// <summary>The init decision as a table: what each device holds -> condition and action per device, strategy and preferred primary.</summary>
public class InitPolicyTests
{
    private static readonly FlashGeometry G = new(2048, 64, 16, 128);
    private static readonly FlashGeometry Other = new(2048, 64, 16, 256);
    private static readonly Guid Mine = new("11111111-1111-1111-1111-111111111111");
    private static readonly Guid Theirs = new("22222222-2222-2222-2222-222222222222");

    /// <summary>A short description of a device: good, sw (bad software), cfg (bad configuration), both (both bad), blank, foreign, foreign-bad, geom, dead; a trailing '*' = designated primary.</summary>
    private static DeviceFacts Facts(string name, string what)
    {
        bool primary = what.EndsWith('*');
        what = what.TrimEnd('*');
        return what switch
        {
            "good" => new(name, G, null, Mine, 3, primary, 10, null, null, false),
            "sw" => new(name, G, null, Mine, 3, primary, 10, "component a.bin does not match", null, false),
            "cfg" => new(name, G, null, Mine, 3, primary, 10, null, "configuration node: bad CRC", false),
            "both" => new(name, G, null, Mine, 3, primary, 10, "no SGC file", "configuration node is missing", false),
            "notable" => new(name, G, null, Mine, 3, primary, null, "context table: bad", "context table: bad", false),
            "blank" => DeviceFacts.Blank(name, G),
            "foreign" => new(name, G, null, Theirs, 7, primary, 99, null, null, false),
            "foreign-bad" => new(name, G, null, Theirs, 7, primary, 99, "no SGC file", null, false),
            "geom" => DeviceFacts.Blank(name, Other),
            "geom-member" => new(name, Other, null, Mine, 3, primary, 10, null, null, false),
            "dead" => DeviceFacts.Dead(name, G, "power lost"),
            _ => throw new ArgumentException(what),
        };
    }

    public static TheoryData<string, string, bool, bool, string, string, string, string?> Table => new()
    {
        // nvs0, nvs1, pair id known, adopt -> nvs0 verdict, nvs1 verdict, strategy, preferred primary
        { "good*", "good", false, false, "Good/Use", "Good/Use", "Boot", "nvs0" },
        { "good", "good*", false, false, "Good/Use", "Good/Use", "Boot", "nvs1" },
        { "sw*", "good", false, false, "BadSoftware/Use", "Good/Use", "Boot", "nvs1" },
        { "cfg*", "good", false, false, "BadConfiguration/Use", "Good/Use", "Boot", "nvs1" },
        { "cfg*", "sw", false, false, "BadConfiguration/Use", "BadSoftware/Use", "Boot", "nvs0" },
        { "sw*", "cfg", false, false, "BadSoftware/Use", "BadConfiguration/Use", "Boot", "nvs1" },
        { "sw*", "sw", false, false, "BadSoftware/Use", "BadSoftware/Use", "Rebuild", "nvs0" },
        { "both*", "sw", false, false, "BadSoftware/Use", "BadSoftware/Use", "Rebuild", "nvs1" },
        { "notable", "sw*", false, false, "BadSoftware/Use", "BadSoftware/Use", "Rebuild", "nvs1" },
        { "good*", "blank", false, false, "Good/Use", "Blank/Fill", "Boot", "nvs0" },
        { "blank", "cfg", false, false, "Blank/Fill", "BadConfiguration/Use", "Boot", "nvs1" },
        { "blank", "blank", false, false, "Blank/Fill", "Blank/Fill", "Reinstall", null },
        { "good*", "dead", false, false, "Good/Use", "Dead/Fence", "Boot", "nvs0" },
        { "dead", "good", false, false, "Dead/Fence", "Good/Use", "Boot", "nvs1" },
        { "dead", "dead", false, false, "Dead/Fence", "Dead/Fence", "Unavailable", null },
        { "dead", "blank", false, false, "Dead/Fence", "Blank/Fill", "Unavailable", null },
        { "good*", "geom", false, false, "Good/Use", "OtherGeometry/Fence", "Boot", "nvs0" },
        { "geom", "sw*", false, false, "OtherGeometry/Fence", "BadSoftware/Use", "Rebuild", "nvs1" },
        { "geom-member", "good*", true, false, "OtherGeometry/Fence", "Good/Use", "Boot", "nvs1" },
        // Another node's device: left untouched unless adoption is allowed; which pair is the node's.
        { "good*", "foreign", false, false, "Good/Use", "Foreign/Fence", "Boot", "nvs0" },
        { "good*", "foreign", false, true, "Good/Use", "Foreign/Adopt", "Boot", "nvs0" },
        { "foreign", "good*", true, false, "Foreign/Fence", "Good/Use", "Boot", "nvs1" },
        { "foreign", "good*", false, false, "Good/Use", "Foreign/Fence", "Boot", "nvs0" },
        { "foreign-bad", "good*", false, false, "Foreign/Fence", "Good/Use", "Boot", "nvs1" },
        { "sw*", "foreign", true, false, "BadSoftware/Use", "Foreign/Fence", "Rebuild", "nvs0" },
        { "foreign", "blank", true, false, "Foreign/Fence", "Blank/Fill", "Unavailable", null },
        { "foreign", "blank", true, true, "Foreign/Adopt", "Blank/Fill", "Reinstall", null },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Classifies_and_plans(string first, string second, bool pairKnown, bool adopt, string verdict0, string verdict1, string strategy, string? preferred)
    {
        var plan = InitPolicy.Classify(Facts("nvs0", first), Facts("nvs1", second), pairKnown ? Mine : null, adopt);
        Assert.Equal(verdict0, $"{plan.Devices[0].Condition}/{plan.Devices[0].Action}");
        Assert.Equal(verdict1, $"{plan.Devices[1].Condition}/{plan.Devices[1].Action}");
        Assert.Equal(strategy, plan.Strategy.ToString());
        Assert.Equal(preferred, plan.Preferred);
    }

    [Fact]
    public void A_device_holding_the_pair_is_never_formatted_or_fenced()
    {
        string[] kinds = ["good", "sw", "cfg", "both", "notable", "blank", "foreign", "foreign-bad", "geom", "dead", "good*", "sw*", "cfg*"];
        foreach (var a in kinds)
        {
            foreach (var b in kinds)
            {
                foreach (bool known in new[] { false, true })
                {
                    foreach (bool adopt in new[] { false, true })
                    {
                        var facts = new[] { Facts("nvs0", a), Facts("nvs1", b) };
                        var plan = InitPolicy.Classify(facts[0], facts[1], known ? Mine : null, adopt);
                        for (int i = 0; i < 2; i++)
                        {
                            if (facts[i].PairId == plan.NodePairId && facts[i].PairId is not null && facts[i].Geometry == G)
                            {
                                Assert.Equal(DeviceAction.Use, plan.Devices[i].Action);
                            }

                            if (plan.Devices[i].Condition is DeviceCondition.Dead or DeviceCondition.OtherGeometry)
                            {
                                Assert.Equal(DeviceAction.Fence, plan.Devices[i].Action);
                            }

                            if (plan.Devices[i].Condition == DeviceCondition.Foreign)
                            {
                                Assert.Equal(adopt ? DeviceAction.Adopt : DeviceAction.Fence, plan.Devices[i].Action);
                            }
                        }

                        Assert.True(plan.Strategy != InitStrategy.Reinstall || plan.Devices.All(d => d.Action is DeviceAction.Fill or DeviceAction.Adopt), plan.ToString());
                        Assert.True(plan.Strategy is not (InitStrategy.Boot or InitStrategy.Rebuild) || plan.Preferred is not null, plan.ToString());
                    }
                }
            }
        }
    }

    [Fact]
    public void Plan_prints_readably()
    {
        var plan = InitPolicy.Classify(Facts("nvs0", "good*"), Facts("nvs1", "dead"));
        Assert.Equal("Boot: nvs0: Good -> Use; nvs1: Dead -> Fence (power lost), primary nvs0", plan.ToString());
    }
}

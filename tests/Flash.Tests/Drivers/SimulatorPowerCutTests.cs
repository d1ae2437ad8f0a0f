using Flash.Drivers;
using Flash.Drivers.Simulation;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Flash.Tests.Drivers.SimTestKit;

namespace Flash.Tests.Drivers;

public class SimulatorPowerCutTests
{
    [Fact]
    public void A_cut_during_a_program_clears_some_but_not_all_intended_bits_and_sets_none()
    {
        using var sim = Nand(seed: 11);
        var old = Filled(2048, 0xFF);
        var zeros = Filled(2048, 0x00);
        sim.CutPowerAfter(1);
        var ex = Assert.Throws<PowerLossException>(() => sim.Program(4, zeros, Filled(64, 0x00)));
        Assert.Contains("page 4", ex.Message);
        Assert.False(sim.IsPowered);

        sim.PowerUp();
        var data = ReadData(sim, 4);
        int cleared = ZeroBits(data);
        Assert.InRange(cleared, 1, (2048 * 8) - 1);
        Assert.InRange(ZeroBits(ReadSpare(sim, 4)), 1, (64 * 8) - 1);

        // The interrupted program counted: the page must be erased before it is programmed again.
        Assert.Equal(1, sim.ProgramCountOf(4));
        Assert.Throws<ProgramRuleException>(() => sim.Program(4, zeros, default));
        Assert.Equal(old.Length, data.Length);
    }

    [Fact]
    public void A_cut_program_never_sets_bits_and_never_touches_bits_the_program_keeps()
    {
        using var sim = Nor(seed: 3);
        var first = Pattern(256, 21);
        sim.Program(1, first, default);
        var second = Pattern(256, 22);
        sim.CutPowerAfter(1);
        Assert.Throws<PowerLossException>(() => sim.Program(1, second, default));
        sim.PowerUp();
        var after = ReadData(sim, 1);
        for (int i = 0; i < after.Length; i++)
        {
            Assert.Equal(0, after[i] & ~first[i] & 0xFF);           // no bit set
            Assert.Equal(first[i] & second[i], after[i] & first[i] & second[i]); // bits to keep still there
            Assert.Equal(after[i] & (first[i] & second[i]), first[i] & second[i]);
        }
    }

    [Property(MaxTest = 100)]
    public Property A_cut_program_lies_between_the_old_and_the_intended_content(byte oldFill, byte newFill, ulong seed)
    {
        using var sim = Nor(seed);
        sim.Program(0, Filled(256, oldFill), default);
        sim.CutPowerAfter(1);
        try
        {
            sim.Program(0, Filled(256, newFill), default);
            return false.Label("no power loss");
        }
        catch (PowerLossException)
        {
        }

        sim.PowerUp();
        var after = ReadData(sim, 0);
        byte target = (byte)(oldFill & newFill);
        return after.All(b => (b & ~oldFill) == 0 && (b & target) == target)
            .Label($"old {oldFill:X2} new {newFill:X2} got {Convert.ToHexString(after, 0, 8)}");
    }

    [Fact]
    public void Every_operation_fails_while_off_and_the_cut_state_survives_power_up()
    {
        using var sim = Nand(seed: 5);
        sim.Program(0, Pattern(2048, 1), default);
        sim.CutPowerAfter(1);
        Assert.Throws<PowerLossException>(() => sim.Program(1, Filled(2048, 0), default));
        var counters = sim.Statistics.Capture();
        long mutations = sim.MutationCount;

        var data = new byte[2048];
        Assert.Throws<PowerLossException>(() => sim.Read(0, data, default));
        Assert.Throws<PowerLossException>(() => sim.Program(2, data, default));
        Assert.Throws<PowerLossException>(() => sim.Erase(1));
        Assert.Throws<PowerLossException>(() => sim.IsBad(1));
        Assert.Throws<PowerLossException>(() => sim.MarkBad(1));
        Assert.Equal(counters, sim.Statistics.Capture());
        Assert.Equal(mutations, sim.MutationCount);

        var imageWhileOff = Image(sim);
        sim.PowerUp();
        Assert.True(sim.IsPowered);
        Assert.Equal(imageWhileOff, Image(sim));
        Assert.Equal(Pattern(2048, 1), ReadData(sim, 0));
        Assert.False(sim.IsBad(1));

        // The device works normally again.
        sim.Program(2, Pattern(2048, 2), default);
        Assert.Equal(Pattern(2048, 2), ReadData(sim, 2));
    }

    [Fact]
    public void CutPower_between_operations_stops_everything_until_power_up()
    {
        using var sim = Nand();
        sim.Program(0, Pattern(2048, 1), default);
        sim.CutPower();
        Assert.False(sim.IsPowered);
        Assert.Throws<PowerLossException>(() => sim.Read(0, new byte[2048], default));
        sim.PowerUp();
        Assert.Equal(Pattern(2048, 1), ReadData(sim, 0));
    }

    [Fact]
    public void An_interrupted_erase_leaves_a_partially_erased_block()
    {
        using var sim = Nand(seed: 8);
        for (int page = 8; page < 16; page++)
        {
            sim.Program(page, Filled(2048, 0x00), GoodSpare(0x00));
        }

        sim.CutPowerAfter(1);
        Assert.Throws<PowerLossException>(() => sim.Erase(1));
        sim.PowerUp();

        int erasedBytes = 0, keptBytes = 0;
        for (int page = 8; page < 16; page++)
        {
            foreach (byte b in ReadData(sim, page))
            {
                if (b == 0xFF)
                {
                    erasedBytes++;
                }
                else
                {
                    Assert.Equal(0x00, b);
                    keptBytes++;
                }
            }
        }

        Assert.True(erasedBytes > 0, "some cells were erased");
        Assert.True(keptBytes > 0, "some cells kept their old value");
        Assert.Equal(1, sim.WearOf(1));

        // A full erase afterwards repairs it.
        sim.Erase(1);
        for (int page = 8; page < 16; page++)
        {
            Assert.All(ReadData(sim, page), b => Assert.Equal(0xFF, b));
        }
    }

    [Fact]
    public void CutPowerAfter_counts_mutations_not_reads()
    {
        using var sim = Nand();
        sim.CutPowerAfter(3);
        sim.Program(0, Pattern(2048, 1), default);
        _ = ReadData(sim, 0);
        _ = ReadData(sim, 0);
        sim.Erase(3);
        Assert.True(sim.IsPowered);
        Assert.Throws<PowerLossException>(() => sim.Program(1, Pattern(2048, 2), default));
        Assert.Equal(3, sim.MutationCount);
    }

    [Fact]
    public void Rule_violations_are_not_mutations_and_do_not_trigger_the_cut()
    {
        using var sim = Nand();
        sim.Program(5, Pattern(2048, 1), default);
        sim.CutPowerAfter(1);
        Assert.Throws<ProgramRuleException>(() => sim.Program(5, Pattern(2048, 1), default));
        Assert.True(sim.IsPowered);
        Assert.Throws<PowerLossException>(() => sim.Program(6, Pattern(2048, 1), default));
    }

    [Fact]
    public void CutPowerAtMutation_uses_the_lifetime_index()
    {
        using var sim = Nand();
        sim.Program(0, Pattern(2048, 1), default);
        sim.Program(1, Pattern(2048, 1), default);
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.CutPowerAtMutation(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.CutPowerAfter(0));
        sim.CutPowerAtMutation(4);
        sim.Program(2, Pattern(2048, 1), default);
        Assert.Throws<PowerLossException>(() => sim.Program(3, Pattern(2048, 1), default));
        Assert.Equal(4, sim.MutationCount);
    }

    [Fact]
    public void CancelPowerCut_removes_the_scheduled_cut_and_a_cut_fires_once()
    {
        using var sim = Nand();
        sim.CutPowerAfter(1);
        sim.CancelPowerCut();
        sim.Program(0, Pattern(2048, 1), default);
        Assert.True(sim.IsPowered);

        sim.CutPowerAfter(1);
        Assert.Throws<PowerLossException>(() => sim.Program(1, Pattern(2048, 1), default));
        sim.PowerUp();
        sim.Program(2, Pattern(2048, 1), default);
        sim.Program(3, Pattern(2048, 1), default);
        Assert.True(sim.IsPowered);
    }

    [Fact]
    public void The_same_seed_gives_the_same_run_and_another_seed_a_different_one()
    {
        static byte[] Run(ulong seed)
        {
            using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNand, Seed = seed, BitErrorRate = 1e-4, ProgramFailureRate = 0.05 });
            var results = new List<byte>();
            for (int i = 0; i < 40; i++)
            {
                if (i == 25)
                {
                    sim.CutPowerAfter(1);
                }

                try
                {
                    sim.Program(i, Pattern(2048, i), GoodSpare(i));
                    results.Add(1);
                }
                catch (ProgramFailedException)
                {
                    results.Add(2);
                }
                catch (PowerLossException)
                {
                    results.Add(3);
                    sim.PowerUp();
                }

                results.Add((byte)sim.Read(i, new byte[2048], default).Status);
            }

            sim.CutPowerAfter(1);
            Assert.Throws<PowerLossException>(() => sim.Erase(2));
            sim.PowerUp();
            return [.. results, .. Image(sim)];
        }

        Assert.Equal(Run(77), Run(77));
        Assert.NotEqual(Run(77), Run(78));
    }
}

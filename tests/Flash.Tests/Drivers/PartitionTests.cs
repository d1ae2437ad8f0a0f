using Flash.Drivers;
using Flash.Drivers.Simulation;
using static Flash.Tests.Drivers.SimTestKit;

namespace Flash.Tests.Drivers;

public class PartitionTests
{
    [Fact]
    public void Addresses_are_translated_to_the_parent()
    {
        using var sim = Nand();
        using var part = FlashPartition.Create(sim, firstBlock: 4, blockCount: 6);
        Assert.Equal(4, part.FirstBlock);
        Assert.Equal(6, part.Geometry.BlockCount);
        Assert.Equal(48, part.Geometry.PageCount);
        Assert.Equal(sim.Geometry.PageSize, part.Geometry.PageSize);

        part.Program(3, Pattern(2048, 1), default);
        Assert.Equal(Pattern(2048, 1), ReadData(sim, (4 * 8) + 3));
        Assert.Equal(Pattern(2048, 1), ReadData(part, 3));

        sim.Program((5 * 8) + 1, Pattern(2048, 2), default);
        Assert.Equal(Pattern(2048, 2), ReadData(part, 8 + 1));

        part.Erase(0);
        Assert.All(ReadData(sim, (4 * 8) + 3), b => Assert.Equal(0xFF, b));
        Assert.Equal(1, sim.WearOf(4));

        part.MarkBad(2);
        Assert.True(sim.IsBad(6));
        Assert.True(part.IsBad(2));
        Assert.False(part.IsBad(1));
    }

    [Fact]
    public void Counters_are_kept_on_the_partition_and_the_parent()
    {
        using var sim = Nand();
        using var part = FlashPartition.Create(sim, 2, 4);
        part.Program(0, Pattern(2048, 1), Filled(64, 0xFF));
        _ = ReadData(part, 0);
        part.Erase(1);
        sim.Erase(0);

        Assert.Equal(1, part.Statistics.PagePrograms);
        Assert.Equal(1, part.Statistics.PageReads);
        Assert.Equal(1, part.Statistics.BlockErases);
        Assert.Equal(1, part.Statistics.EraseCount(1));
        Assert.Equal(4, part.Statistics.EraseCounts.Length);
        Assert.Equal(2, sim.Statistics.BlockErases);
        Assert.Equal(1, sim.Statistics.EraseCount(3));
        Assert.Equal(part.Statistics.Timing, sim.Statistics.Timing);
        Assert.Equal(252_800 + 25_000 + (2048 * 25) + 2_000_000, part.Statistics.SimulatedNanoseconds);
    }

    [Theory]
    [InlineData(-1, 2)]
    [InlineData(0, 0)]
    [InlineData(15, 2)]
    [InlineData(10, 7)]
    [InlineData(16, 1)]
    public void A_range_outside_the_parent_is_refused(int first, int count)
    {
        using var sim = Nand();
        Assert.Throws<ArgumentOutOfRangeException>(() => FlashPartition.Create(sim, first, count));
    }

    [Fact]
    public void The_whole_device_is_a_valid_partition()
    {
        using var sim = Nand();
        using var part = FlashPartition.Create(sim, 0, 16);
        part.Program(127, Pattern(2048, 1), default);
        Assert.Equal(Pattern(2048, 1), ReadData(sim, 127));
    }

    [Fact]
    public void Addresses_outside_the_partition_are_refused_and_change_nothing()
    {
        using var sim = Nand();
        using var part = FlashPartition.Create(sim, 4, 2);
        var before = State(sim);
        Assert.Throws<ArgumentOutOfRangeException>(() => part.Program(16, Pattern(2048, 1), default));
        Assert.Throws<ArgumentOutOfRangeException>(() => part.Program(-1, Pattern(2048, 1), default));
        Assert.Throws<ArgumentOutOfRangeException>(() => part.Read(16, new byte[2048], default));
        Assert.Throws<ArgumentOutOfRangeException>(() => part.Erase(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => part.IsBad(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => part.MarkBad(-1));
        Assert.Throws<ArgumentException>(() => part.Program(0, new byte[100], default));
        Assert.Equal(before, State(sim), new StateComparer());
        Assert.Equal(0, part.Statistics.PagePrograms + part.Statistics.PageReads + part.Statistics.BlockErases);
    }

    [Fact]
    public void Program_rules_and_power_cuts_pass_through()
    {
        using var sim = Nand();
        using var part = FlashPartition.Create(sim, 1, 3);
        part.Program(5, Pattern(2048, 1), default);
        Assert.Throws<ProgramRuleException>(() => part.Program(4, Pattern(2048, 1), default));
        sim.CutPowerAfter(1);
        Assert.Throws<PowerLossException>(() => part.Program(6, Pattern(2048, 1), default));
        Assert.Throws<PowerLossException>(() => part.Read(5, new byte[2048], default));
        sim.PowerUp();
        Assert.Equal(Pattern(2048, 1), ReadData(part, 5));
    }

    [Fact]
    public void Disposing_disposes_the_parent_only_when_owned()
    {
        var sim = Nand();
        FlashPartition.Create(sim, 0, 2).Dispose();
        _ = ReadData(sim, 0);
        FlashPartition.Create(sim, 0, 2, ownsParent: true).Dispose();
        Assert.Throws<ObjectDisposedException>(() => sim.Read(0, new byte[2048], default));
    }

    [Fact]
    public void Nested_partitions_compose()
    {
        using var sim = Nand();
        using var outer = FlashPartition.Create(sim, 2, 10);
        using var inner = FlashPartition.Create(outer, 3, 4);
        inner.Program(8, Pattern(2048, 3), default);
        Assert.Equal(Pattern(2048, 3), ReadData(sim, ((2 + 3 + 1) * 8) + 0));
    }
}

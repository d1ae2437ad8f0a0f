using Flash.Drivers;
using Flash.Drivers.Simulation;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using static Flash.Tests.Drivers.SimTestKit;

namespace Flash.Tests.Drivers;

public class SimulatorProgramRulesTests
{
    [Fact]
    public void A_new_device_is_erased_and_reads_clean()
    {
        using var sim = Nand();
        var data = new byte[sim.Geometry.PageSize];
        var spare = new byte[sim.Geometry.SpareSize];
        for (int page = 0; page < sim.Geometry.PageCount; page += 7)
        {
            var result = sim.Read(page, data, spare);
            Assert.Equal(ReadResult.Clean, result);
            Assert.All(data, b => Assert.Equal(0xFF, b));
            Assert.All(spare, b => Assert.Equal(0xFF, b));
        }

        Assert.Equal(0, sim.MutationCount);
        Assert.True(sim.IsPowered);
    }

    [Fact]
    public void Program_then_read_returns_data_and_spare()
    {
        using var sim = Nand();
        var data = Pattern(2048, 1);
        var spare = Filled(64, 0xFF);
        spare[2] = 0x12;
        spare[39] = 0x34;
        sim.Program(9, data, spare);
        Assert.Equal(data, ReadData(sim, 9));
        Assert.Equal(spare, ReadSpare(sim, 9));
        Assert.Equal(1, sim.ProgramCountOf(9));
        Assert.Equal(1, sim.MutationCount);
    }

    [Fact]
    public void Program_result_is_old_AND_new_on_NOR()
    {
        using var sim = Nor();
        var first = Pattern(256, 2);
        var second = Pattern(256, 3);
        sim.Program(5, first, default);
        sim.Program(5, second, default);
        var expected = first.Zip(second, (a, b) => (byte)(a & b)).ToArray();
        Assert.Equal(expected, ReadData(sim, 5));
        Assert.Equal(2, sim.ProgramCountOf(5));
    }

    [Fact]
    public void Programming_ones_never_sets_a_cleared_bit()
    {
        using var sim = Nor();
        sim.Program(0, Filled(256, 0x00), default);
        sim.Program(0, Filled(256, 0xFF), default);
        Assert.All(ReadData(sim, 0), b => Assert.Equal(0, b));
    }

    [Fact]
    public void Empty_spans_leave_the_other_area_untouched()
    {
        using var sim = Nand(geometry: new FlashGeometry(2048, 64, 8, 4, partialPrograms: 2));
        var spare = Filled(64, 0xFF);
        spare[3] = 0x00;
        sim.Program(0, default, spare);
        Assert.All(ReadData(sim, 0), b => Assert.Equal(0xFF, b));
        Assert.Equal(spare, ReadSpare(sim, 0));

        var data = Pattern(2048, 4);
        sim.Program(0, data, default);
        Assert.Equal(data, ReadData(sim, 0));
        Assert.Equal(spare, ReadSpare(sim, 0));
    }

    [Fact]
    public void Second_program_of_a_NAND_page_breaks_the_program_count_rule_and_changes_nothing()
    {
        using var sim = Nand();
        var data = Pattern(2048, 5);
        sim.Program(3, data, default);
        var before = State(sim);
        var ex = Assert.Throws<ProgramRuleException>(() => sim.Program(3, Filled(2048, 0), default));
        Assert.Equal(3, ex.Page);
        Assert.Equal(before, State(sim), new StateComparer());
        Assert.Equal(data, ReadData(sim, 3));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void A_page_takes_exactly_PartialPrograms_programs_between_erases(int partial)
    {
        using var sim = Nand(geometry: new FlashGeometry(2048, 64, 8, 4, partialPrograms: partial));
        for (int i = 0; i < partial; i++)
        {
            var data = Filled(2048, 0xFF);
            data[i] = 0;
            sim.Program(1, data, default);
        }

        Assert.Equal(partial, sim.ProgramCountOf(1));
        Assert.Throws<ProgramRuleException>(() => sim.Program(1, Filled(2048, 0xFF), default));

        sim.Erase(0);
        Assert.Equal(0, sim.ProgramCountOf(1));
        sim.Program(1, Filled(2048, 0xAA), default);
        Assert.All(ReadData(sim, 1), b => Assert.Equal(0xAA, b));
    }

    [Fact]
    public void NAND_pages_must_be_programmed_in_ascending_order_within_a_block()
    {
        using var sim = Nand();
        sim.Program(5, Pattern(2048, 6), default);
        var before = State(sim);
        var ex = Assert.Throws<ProgramRuleException>(() => sim.Program(3, Pattern(2048, 7), default));
        Assert.Equal(3, ex.Page);
        Assert.Equal(before, State(sim), new StateComparer());

        // Skipping forward is allowed, and other blocks are independent.
        sim.Program(7, Pattern(2048, 8), default);
        sim.Program(8 + 2, Pattern(2048, 9), default);
        sim.Program(8 + 3, Pattern(2048, 9), default);

        // After an erase the block starts again from any page.
        sim.Erase(0);
        sim.Program(3, Pattern(2048, 10), default);
        sim.Program(4, Pattern(2048, 11), default);
    }

    [Fact]
    public void Reprogramming_the_highest_page_is_in_order_when_partial_programs_allow_it()
    {
        using var sim = Nand(geometry: new FlashGeometry(2048, 64, 8, 4, partialPrograms: 4));
        sim.Program(2, Filled(2048, 0xF0), default);
        sim.Program(2, Filled(2048, 0x3F), default);
        Assert.All(ReadData(sim, 2), b => Assert.Equal(0x30, b));
        Assert.Throws<ProgramRuleException>(() => sim.Program(1, Filled(2048, 0), default));
    }

    [Fact]
    public void NOR_has_no_page_order_rule()
    {
        using var sim = Nor();
        sim.Program(3, Filled(256, 0x0F), default);
        sim.Program(0, Filled(256, 0xF0), default);
        sim.Program(2, Filled(256, 0x00), default);
        Assert.All(ReadData(sim, 0), b => Assert.Equal(0xF0, b));
        Assert.All(ReadData(sim, 3), b => Assert.Equal(0x0F, b));
        for (int i = 0; i < 8; i++)
        {
            sim.Program(1, Filled(256, 0xFF), default);
        }

        Assert.Throws<ProgramRuleException>(() => sim.Program(1, Filled(256, 0xFF), default));
    }

    [Fact]
    public void Erase_restores_every_byte_of_the_block_and_only_that_block()
    {
        using var sim = Nand();
        for (int page = 0; page < 16; page++)
        {
            sim.Program(page, Filled(2048, 0x00), GoodSpare(0x80));
        }

        sim.Erase(0);
        for (int page = 0; page < 8; page++)
        {
            Assert.All(ReadData(sim, page), b => Assert.Equal(0xFF, b));
            Assert.All(ReadSpare(sim, page), b => Assert.Equal(0xFF, b));
        }

        for (int page = 8; page < 16; page++)
        {
            Assert.All(ReadData(sim, page), b => Assert.Equal(0x00, b));
        }

        Assert.Equal(1, sim.WearOf(0));
        Assert.Equal(0, sim.WearOf(1));
    }

    [Fact]
    public void Factory_bad_blocks_are_marked_and_refuse_program_and_erase()
    {
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNand, FactoryBadBlocks = [3, 7] });
        Assert.True(sim.IsBad(3));
        Assert.True(sim.IsBad(7));
        Assert.False(sim.IsBad(0));
        Assert.False(sim.IsBad(4));
        Assert.Equal(0, ReadSpare(sim, sim.Geometry.FirstPageOf(3))[0]);
        var before = State(sim);
        Assert.Equal(3, Assert.Throws<BadBlockException>(() => sim.Erase(3)).Block);
        Assert.Equal(7, Assert.Throws<BadBlockException>(() => sim.Program(sim.Geometry.FirstPageOf(7) + 2, Filled(2048, 0), default)).Block);
        Assert.Equal(before.Mutations, sim.MutationCount);
        Assert.Equal(before.Image, Image(sim));
    }

    [Fact]
    public void Factory_bad_block_rate_marks_some_blocks_but_never_block_0()
    {
        var g = new FlashGeometry(512, 16, 4, 512, spareFreeLength: 6);
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = g, FactoryBadBlockRate = 0.05, Seed = 9 });
        int bad = Enumerable.Range(0, g.BlockCount).Count(sim.IsBad);
        Assert.False(sim.IsBad(0));
        Assert.InRange(bad, 5, 60);

        using var again = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = g, FactoryBadBlockRate = 0.05, Seed = 9 });
        Assert.Equal(Enumerable.Range(0, g.BlockCount).Select(sim.IsBad), Enumerable.Range(0, g.BlockCount).Select(again.IsBad));
    }

    [Fact]
    public void MarkBad_writes_the_marker_and_survives_an_image_round_trip()
    {
        using var sim = Nand();
        sim.Program(16, Pattern(2048, 1), default);
        sim.MarkBad(2);
        Assert.True(sim.IsBad(2));
        Assert.Throws<BadBlockException>(() => sim.Erase(2));
        Assert.Throws<BadBlockException>(() => sim.Program(17, Pattern(2048, 2), default));

        using var copy = FlashSimulator.LoadImage(new MemoryStream(Image(sim)), sim.Options);
        Assert.True(copy.IsBad(2));
        Assert.False(copy.IsBad(1));
    }

    [Fact]
    public void Programming_a_bad_block_marker_into_the_spare_makes_the_block_bad_as_on_real_parts()
    {
        using var sim = Nand();
        var spare = Filled(64, 0xFF);
        spare[0] = 0x00;
        sim.Program(sim.Geometry.FirstPageOf(5) + 1, default, spare);
        Assert.True(sim.IsBad(5));
    }

    [Fact]
    public void MarkBad_on_NOR_is_kept_outside_the_array()
    {
        using var sim = Nor();
        sim.MarkBad(6);
        Assert.True(sim.IsBad(6));
        Assert.Throws<BadBlockException>(() => sim.Erase(6));
        Assert.All(ReadData(sim, 6 * 4), b => Assert.Equal(0xFF, b));
    }

    [Property(MaxTest = 200)]
    public bool Programming_any_sequence_into_a_NOR_page_yields_the_AND_of_the_writes(byte[][] writes, byte fill)
    {
        using var sim = Nor();
        var g = sim.Geometry;
        var expected = Filled(g.PageSize, 0xFF);
        int count = Math.Min(writes.Length, g.PartialPrograms);
        for (int i = 0; i < count; i++)
        {
            // Tile each generated array (or the fill byte for an empty one) to a full page.
            var source = writes[i] is { Length: > 0 } w ? w : [fill];
            var page = new byte[g.PageSize];
            for (int j = 0; j < page.Length; j++)
            {
                page[j] = source[j % source.Length];
                expected[j] &= page[j];
            }

            sim.Program(2, page, default);
        }

        bool andHolds = ReadData(sim, 2).AsSpan().SequenceEqual(expected) && sim.ProgramCountOf(2) == count;
        if (count < g.PartialPrograms)
        {
            return andHolds;
        }

        try
        {
            sim.Program(2, Filled(g.PageSize, 0), default);
            return false;
        }
        catch (ProgramRuleException)
        {
            return andHolds && ReadData(sim, 2).AsSpan().SequenceEqual(expected);
        }
    }

    [Property(MaxTest = 100)]
    public Property Programming_NAND_pages_in_any_order_succeeds_exactly_when_ascending(int[] rawPages)
    {
        var pages = rawPages.Select(p => (p & int.MaxValue) % 8).Take(6).ToArray();
        using var sim = Nand();
        int highest = -1;
        var used = new HashSet<int>();
        foreach (int page in pages)
        {
            bool allowed = page >= highest && !used.Contains(page);
            try
            {
                sim.Program(page, Pattern(2048, page), default);
                if (!allowed)
                {
                    return false.Label($"page {page} was accepted after {highest}");
                }

                highest = page;
                used.Add(page);
            }
            catch (ProgramRuleException)
            {
                if (allowed)
                {
                    return false.Label($"page {page} was refused after {highest}");
                }
            }
        }

        return (sim.MutationCount == used.Count).Label("only accepted programs are mutations");
    }
}

/// <summary>Compares state fingerprints by value (the image is an array).</summary>
internal sealed class StateComparer : IEqualityComparer<(FlashCounters Counters, long Mutations, byte[] Image)>
{
    public bool Equals((FlashCounters Counters, long Mutations, byte[] Image) x, (FlashCounters Counters, long Mutations, byte[] Image) y)
        => x.Counters == y.Counters && x.Mutations == y.Mutations && x.Image.AsSpan().SequenceEqual(y.Image);

    public int GetHashCode((FlashCounters Counters, long Mutations, byte[] Image) obj) => obj.Mutations.GetHashCode();
}

using Flash.Drivers;
using Flash.Drivers.Simulation;
using static Flash.Tests.Drivers.SimTestKit;

namespace Flash.Tests.Drivers;

public class StatisticsTests
{
    [Fact]
    public void A_2048_byte_program_with_empty_spare_costs_251_2_us()
    {
        using var sim = FlashSimulator.Create();
        sim.Program(0, new byte[2048], default);
        Assert.Equal(251_200, sim.Statistics.SimulatedNanoseconds);
        Assert.Equal(TimeSpan.FromMicroseconds(251.2), sim.Statistics.SimulatedTime);
    }

    [Fact]
    public void A_2048_byte_program_with_64_byte_spare_costs_252_8_us()
    {
        using var sim = FlashSimulator.Create();
        sim.Program(0, new byte[2048], Filled(64, 0xFF));
        Assert.Equal(252_800, sim.Statistics.SimulatedNanoseconds);
    }

    [Fact]
    public void Reads_and_erases_cost_tR_plus_transfer_and_tBERS()
    {
        using var sim = FlashSimulator.Create();
        sim.Read(0, new byte[2048], new byte[64]);
        Assert.Equal(25_000 + (2112 * 25), sim.Statistics.SimulatedNanoseconds);
        sim.Read(0, default, new byte[64]);
        Assert.Equal(25_000 + (2112 * 25) + 25_000 + (64 * 25), sim.Statistics.SimulatedNanoseconds);
        var before = sim.Statistics.Capture();
        sim.Erase(3);
        Assert.Equal(2_000_000, (sim.Statistics.Capture() - before).SimulatedNanoseconds);
    }

    [Fact]
    public void Counters_count_operations_and_bytes()
    {
        using var sim = Nand();
        sim.Erase(0);
        sim.Program(0, Pattern(2048, 1), Filled(64, 0xFF));
        sim.Program(1, Pattern(2048, 1), default);
        sim.Program(2, default, Filled(64, 0xFF));
        sim.Read(0, new byte[2048], new byte[64]);
        sim.Read(1, new byte[2048], default);
        sim.Erase(1);
        sim.Erase(1);

        var s = sim.Statistics;
        Assert.Equal(3, s.PagePrograms);
        Assert.Equal(2, s.PageReads);
        Assert.Equal(3, s.BlockErases);
        Assert.Equal(4096, s.DataBytesProgrammed);
        Assert.Equal(128, s.SpareBytesProgrammed);
        Assert.Equal(4096, s.DataBytesRead);
        Assert.Equal(64, s.SpareBytesRead);
        Assert.Equal(6, s.Mutations);
        Assert.Equal(1, s.EraseCount(0));
        Assert.Equal(2, s.EraseCount(1));
        Assert.Equal([1L, 2L, 0L], s.EraseCounts[..3].ToArray());
        Assert.Equal(6, sim.MutationCount);
    }

    [Fact]
    public void Interrupted_and_failed_operations_are_counted_refused_ones_are_not()
    {
        using var sim = Nand();
        sim.CutPowerAfter(1);
        Assert.Throws<PowerLossException>(() => sim.Program(0, new byte[2048], default));
        sim.PowerUp();
        sim.ScheduleEraseFailure(2);
        Assert.Throws<EraseFailedException>(() => sim.Erase(2));
        Assert.Throws<ProgramRuleException>(() => sim.Program(0, new byte[2048], default));
        sim.MarkBad(3);
        Assert.Throws<BadBlockException>(() => sim.Erase(3));
        Assert.Equal(1, sim.Statistics.PagePrograms);
        Assert.Equal(1, sim.Statistics.BlockErases);
        Assert.Equal(2, sim.MutationCount);
    }

    [Fact]
    public void Captures_subtract_to_measure_a_phase()
    {
        using var sim = Nand();
        sim.Program(0, new byte[2048], default);
        var before = sim.Statistics.Capture();
        sim.Program(1, new byte[2048], default);
        sim.Read(1, new byte[2048], default);
        var phase = sim.Statistics.Capture() - before;
        Assert.Equal(new FlashCounters(1, 1, 0, 2048, 2048, 251_200 + 76_200), phase);
        Assert.Equal(phase, FlashCounters.Subtract(sim.Statistics.Capture(), before));
        Assert.Equal(0.3274, phase.SimulatedMilliseconds, 6);
    }

    [Fact]
    public void A_custom_timing_model_is_used()
    {
        var timing = new FlashTiming(ReadNs: 50_000, ProgramNs: 600_000, EraseNs: 3_000_000, TransferNsPerByte: 10);
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNand, Timing = timing });
        sim.Program(0, new byte[2048], default);
        sim.Read(0, new byte[2048], default);
        sim.Erase(0);
        Assert.Same(timing, sim.Statistics.Timing);
        Assert.Equal(600_000 + 20_480 + 50_000 + 20_480 + 3_000_000, sim.Statistics.SimulatedNanoseconds);
    }

    [Fact]
    public void ECC_outcomes_are_counted()
    {
        var stats = new FlashStatistics(4);
        stats.RecordRead(2048, 0, new ReadResult(EccStatus.Corrected, 2, 2));
        stats.RecordRead(2048, 0, ReadResult.Uncorrectable);
        stats.RecordRead(2048, 0, ReadResult.Clean);
        Assert.Equal(1, stats.CorrectedReads);
        Assert.Equal(1, stats.UncorrectableReads);
        Assert.Equal(3, stats.PageReads);
        Assert.Same(FlashTiming.Default, stats.Timing);
    }
}

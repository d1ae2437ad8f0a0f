using Flash.Drivers;
using Flash.Drivers.Simulation;
using static Flash.Tests.Drivers.SimTestKit;

namespace Flash.Tests.Drivers;

public class SimulatorFaultTests
{
    [Fact]
    public void A_block_survives_EnduranceCycles_erases_then_wears_out()
    {
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNand, EnduranceCycles = 3 });
        for (int i = 0; i < 3; i++)
        {
            sim.Erase(1);
            sim.Program(8, Pattern(2048, i), default);
        }

        Assert.Equal(3, sim.WearOf(1));
        var ex = Assert.Throws<EraseFailedException>(() => sim.Erase(1));
        Assert.Equal(1, ex.Block);
        Assert.Equal(4, sim.WearOf(1));
        Assert.Throws<ProgramFailedException>(() => sim.Program(9, Pattern(2048, 9), default));

        // Other blocks are unaffected.
        sim.Erase(2);
        sim.Program(16, Pattern(2048, 1), default);
        Assert.Equal(Pattern(2048, 1), ReadData(sim, 16));
    }

    [Fact]
    public void Unlimited_endurance_by_default()
    {
        using var sim = Nand();
        for (int i = 0; i < 500; i++)
        {
            sim.Erase(0);
        }

        sim.Program(0, Pattern(2048, 1), default);
        Assert.Equal(500, sim.WearOf(0));
        Assert.Equal(500, sim.Statistics.EraseCount(0));
    }

    [Fact]
    public void A_scheduled_program_failure_fails_once_and_leaves_the_page_undefined_but_never_sets_bits()
    {
        using var sim = Nand();
        sim.ScheduleProgramFailure(2);
        sim.Program(1, Pattern(2048, 1), default);
        var ex = Assert.Throws<ProgramFailedException>(() => sim.Program(2, Filled(2048, 0x00), default));
        Assert.Equal(2, ex.Page);
        Assert.True(sim.IsPowered);
        Assert.Equal(1, sim.ProgramCountOf(2));
        Assert.Equal(2, sim.MutationCount);
        Assert.InRange(ZeroBits(ReadData(sim, 2)), 0, (2048 * 8) - 1);

        // It fails once: after an erase the page programs normally.
        sim.Erase(0);
        sim.Program(2, Filled(2048, 0x00), default);
        Assert.All(ReadData(sim, 2), b => Assert.Equal(0, b));
    }

    [Fact]
    public void A_scheduled_erase_failure_fails_once_and_leaves_the_content()
    {
        using var sim = Nand();
        sim.Program(8, Filled(2048, 0x00), default);
        sim.ScheduleEraseFailure(1);
        Assert.Equal(1, Assert.Throws<EraseFailedException>(() => sim.Erase(1)).Block);
        Assert.Equal(1, sim.Statistics.BlockErases);
        sim.Erase(1);
        Assert.All(ReadData(sim, 8), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void Scheduling_a_failure_outside_the_device_is_an_argument_error()
    {
        using var sim = Nand();
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.ScheduleProgramFailure(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.ScheduleProgramFailure(sim.Geometry.PageCount));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.ScheduleEraseFailure(sim.Geometry.BlockCount));
    }

    [Fact]
    public void Random_program_and_erase_failures_follow_their_rates()
    {
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions
        {
            Geometry = new FlashGeometry(512, 16, 4, 256, spareFreeLength: 6),
            ProgramFailureRate = 0.1,
            EraseFailureRate = 0.2,
            Seed = 4,
        });
        int programFailures = 0, eraseFailures = 0;
        for (int page = 0; page < 1000; page++)
        {
            try
            {
                sim.Program(page, Pattern(512, page), default);
            }
            catch (ProgramFailedException)
            {
                programFailures++;
            }
        }

        for (int block = 0; block < 250; block++)
        {
            try
            {
                sim.Erase(block);
            }
            catch (EraseFailedException)
            {
                eraseFailures++;
            }
        }

        Assert.InRange(programFailures, 60, 140);
        Assert.InRange(eraseFailures, 25, 75);
    }

    [Fact]
    public void Argument_errors_change_nothing()
    {
        using var sim = Nand();
        sim.Program(0, Pattern(2048, 1), default);
        sim.CutPowerAfter(1);
        var before = State(sim);
        int pages = sim.Geometry.PageCount, blocks = sim.Geometry.BlockCount;

        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Read(-1, new byte[2048], default));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Read(pages, new byte[2048], default));
        Assert.Throws<ArgumentException>(() => sim.Read(1, new byte[2047], default));
        Assert.Throws<ArgumentException>(() => sim.Read(1, new byte[2048], new byte[63]));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Program(pages, new byte[2048], default));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Program(-5, new byte[2048], default));
        Assert.Throws<ArgumentException>(() => sim.Program(1, new byte[4096], default));
        Assert.Throws<ArgumentException>(() => sim.Program(1, new byte[2048], new byte[65]));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Erase(blocks));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.Erase(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.IsBad(blocks));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.MarkBad(-1));

        Assert.Equal(before, State(sim), new StateComparer());
        Assert.True(sim.IsPowered);
        Assert.Equal(0, sim.ProgramCountOf(1));

        // The scheduled cut is still pending: argument errors did not consume it.
        Assert.Throws<PowerLossException>(() => sim.Program(1, new byte[2048], default));
    }

    [Fact]
    public void A_disposed_device_refuses_operations()
    {
        var sim = Nand();
        sim.Dispose();
        Assert.Throws<ObjectDisposedException>(() => sim.Read(0, new byte[2048], default));
        Assert.Throws<ObjectDisposedException>(() => sim.Erase(0));
    }

    [Fact]
    public void The_concurrency_guard_catches_two_threads_on_one_device()
    {
        using var sim = Nand(guard: true);
        for (int page = 0; page < 8; page++)
        {
            sim.Program(page, Pattern(2048, page), default);
        }

        int observed = 0;
        using var start = new Barrier(2);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        void Hammer(int seed)
        {
            var data = new byte[2048];
            var spare = new byte[64];
            start.SignalAndWait();
            for (int i = 0; Volatile.Read(ref observed) == 0 && DateTime.UtcNow < deadline; i++)
            {
                try
                {
                    sim.Read((i + seed) % 8, data, spare);
                }
                catch (ConcurrentDeviceAccessException)
                {
                    Interlocked.Increment(ref observed);
                }
            }
        }

        var threads = new[] { new Thread(() => Hammer(0)), new Thread(() => Hammer(3)) };
        foreach (var t in threads)
        {
            t.Start();
        }

        foreach (var t in threads)
        {
            t.Join();
        }

        Assert.True(observed > 0, "two threads overlapping on one guarded device must be detected");

        // The device is usable afterwards: the losing call did not leave it marked busy.
        Assert.Equal(Pattern(2048, 1), ReadData(sim, 1));
    }

    [Fact]
    public void Without_the_guard_sequential_use_from_two_threads_is_fine()
    {
        using var sim = Nand(guard: false);
        var t = new Thread(() => sim.Program(0, Pattern(2048, 1), default));
        t.Start();
        t.Join();
        Assert.Equal(Pattern(2048, 1), ReadData(sim, 0));
    }
}

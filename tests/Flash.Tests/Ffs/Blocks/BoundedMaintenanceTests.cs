using System.Globalization;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs.Blocks;

/// <summary>
/// Single operations stay bounded at any size, on the simulator's clock: <c>Maintain(budget)</c> overshoots its budget
/// by at most one page program plus one erase, and no operation erases all of a checkpoint's blocks at once.
/// </summary>
public sealed class BoundedMaintenanceTests
{
    private static readonly FlashGeometry s_geometry = FlashGeometry.Nand128MiB.WithBlockCount(96);

    [Theory]
    [InlineData(5)]
    [InlineData(2)]
    public void Maintain_overshoots_its_budget_by_at_most_a_program_and_an_erase(int budgetMs)
    {
        using var device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry });
        var fs = FfsTestDevice.FormatAndMount(device);
        const int files = 18, fileBytes = 512 << 10;
        for (int f = 0; f < files; f++)
        {
            fs.WriteAllBytes(Path(f), FfsTestDevice.Pattern(fileBytes, f));
        }

        var timing = device.Statistics.Timing;
        int pageBytes = s_geometry.PageSize + s_geometry.SpareSize;
        long bound = (budgetMs * 1_000_000L) + timing.ProgramCost(pageBytes) + timing.EraseNs;
        var budget = new MaintenanceBudget(SimulatedTimeBudget: TimeSpan.FromMilliseconds(budgetMs));
        var rng = new Random(42);
        var chunk = new byte[4096];
        long worst = 0, total = 0;
        for (int i = 0; i < 3000; i++)
        {
            rng.NextBytes(chunk);
            using (var file = fs.Open(Path(rng.Next(files))))
            {
                file.Position = rng.Next(fileBytes / chunk.Length) * (long)chunk.Length;
                file.Write(chunk);
            }

            long t0 = device.Statistics.SimulatedNanoseconds;
            fs.Maintain(budget);
            long spent = device.Statistics.SimulatedNanoseconds - t0;
            worst = Math.Max(worst, spent);
            total += spent;
        }

        // The workload keeps collection busy, so the budget is used, not just never reached.
        Assert.True(total > 2000L * 1_000_000, $"maintenance did little: {total / 1e6:F1} ms in all");
        Assert.True(worst <= bound, $"the longest Maintain({budgetMs} ms) took {worst / 1e6:F3} ms, bound {bound / 1e6:F3} ms");
        Assert.True(fs.Check().IsClean);
    }

    [Fact]
    public void No_operation_erases_all_of_a_checkpoint_s_blocks_at_once()
    {
        // Many small files: a checkpoint of several blocks, started by whichever create fills the interval.
        using var device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry.WithBlockCount(256) });
        var fs = FfsTestDevice.FormatAndMount(device);
        var data = FfsTestDevice.Pattern(256, 1);
        long worst = 0;
        for (int i = 0; i < 30_000; i++)
        {
            if (i % 1000 == 0)
            {
                fs.CreateDirectory(Dir(i));
            }

            long e0 = device.Statistics.BlockErases;
            fs.WriteAllBytes(string.Create(CultureInfo.InvariantCulture, $"{Dir(i)}/f{i}"), data);
            worst = Math.Max(worst, device.Statistics.BlockErases - e0);
            if (i >= 8000)
            {
                // Churn, so that the free pool holds reclaimed blocks that still need their erase.
                fs.Delete(string.Create(CultureInfo.InvariantCulture, $"{Dir(i - 8000)}/f{i - 8000}"));
            }
        }

        fs.Unmount();
        fs = FlashFileSystem.Mount(device);
        Assert.Equal(data, fs.ReadAllBytes("/d29/f29999"));

        // A block opened for the write, one for the checkpoint page it programs, and one the collector reclaims.
        Assert.True(worst <= 3, $"one create erased {worst} blocks");
    }

    private static string Path(int f) => string.Create(CultureInfo.InvariantCulture, $"/r{f}");

    private static string Dir(int i) => string.Create(CultureInfo.InvariantCulture, $"/d{i / 1000}");
}

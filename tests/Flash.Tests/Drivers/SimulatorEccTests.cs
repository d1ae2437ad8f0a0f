using Flash.Drivers;
using Flash.Drivers.Simulation;
using static Flash.Tests.Drivers.SimTestKit;

namespace Flash.Tests.Drivers;

public class SimulatorEccTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Flips_within_the_ECC_strength_are_corrected_and_the_data_is_right(int bits)
    {
        using var sim = Nand();
        var data = Pattern(2048, 3);
        sim.Program(0, data, default);
        sim.InjectBitFlips(0, bits, sector: 1);

        var read = new byte[2048];
        var result = sim.Read(0, read, default);
        Assert.Equal(EccStatus.Corrected, result.Status);
        Assert.True(result.IsUsable);
        Assert.Equal(bits, result.CorrectedBits);
        Assert.Equal(bits, result.MaxSectorBits);
        Assert.Equal(data, read);
        Assert.Equal(1, sim.Statistics.CorrectedReads);
        Assert.Equal(0, sim.Statistics.UncorrectableReads);
    }

    [Fact]
    public void Flips_beyond_the_ECC_strength_in_one_sector_are_uncorrectable_and_returned_as_they_are()
    {
        using var sim = Nand();
        var data = Pattern(2048, 4);
        sim.Program(0, data, default);
        for (int bit = 0; bit < 5; bit++)
        {
            sim.InjectBitFlipAt(0, (512 * 8 * 2) + (bit * 9));
        }

        var read = new byte[2048];
        var result = sim.Read(0, read, default);
        Assert.Equal(EccStatus.Uncorrectable, result.Status);
        Assert.False(result.IsUsable);
        Assert.Equal(5, DifferentBits(data, read));
        Assert.Equal(data.AsSpan(0, 1024).ToArray(), read.AsSpan(0, 1024).ToArray());
        Assert.Equal(1, sim.Statistics.UncorrectableReads);
    }

    [Fact]
    public void The_limit_is_per_sector_not_per_page()
    {
        using var sim = Nand();
        var data = Pattern(2048, 5);
        sim.Program(0, data, default);
        for (int sector = 0; sector < 4; sector++)
        {
            for (int i = 0; i < 4; i++)
            {
                sim.InjectBitFlipAt(0, (sector * 512 * 8) + (i * 100) + sector);
            }
        }

        var read = new byte[2048];
        var result = sim.Read(0, read, default);
        Assert.Equal(new ReadResult(EccStatus.Corrected, 16, 4), result);
        Assert.Equal(data, read);
    }

    [Fact]
    public void Flips_are_persistent_until_the_block_is_erased()
    {
        using var sim = Nand();
        sim.Program(1, Pattern(2048, 6), default);
        sim.InjectBitFlips(1, 2);
        Assert.Equal(EccStatus.Corrected, sim.Read(1, new byte[2048], default).Status);
        Assert.Equal(EccStatus.Corrected, sim.Read(1, new byte[2048], default).Status);
        sim.Erase(0);
        Assert.Equal(ReadResult.Clean, sim.Read(1, new byte[2048], default));
    }

    [Fact]
    public void Raw_mode_reports_clean_and_returns_the_flipped_bits()
    {
        using var sim = Nand(eccStrength: 0);
        var data = Pattern(2048, 7);
        sim.Program(0, data, default);
        sim.InjectBitFlipAt(0, 10);
        sim.InjectBitFlipAt(0, 2000);
        var read = new byte[2048];
        Assert.Equal(ReadResult.Clean, sim.Read(0, read, default));
        Assert.Equal(2, DifferentBits(data, read));
        Assert.Equal((byte)(data[1] ^ (1 << 2)), read[1]);
        Assert.Equal(0, sim.Statistics.CorrectedReads);
    }

    [Fact]
    public void Spare_flips_count_only_when_the_spare_is_read()
    {
        using var sim = Nand(eccStrength: 0);
        var spare = Pattern(64, 8);
        sim.Program(0, Pattern(2048, 8), spare);
        sim.InjectBitFlipAt(0, (2048 * 8) + 3);
        Assert.Equal(Pattern(2048, 8), ReadData(sim, 0));
        var readSpare = ReadSpare(sim, 0);
        Assert.Equal(1, DifferentBits(spare, readSpare));
        Assert.Equal((byte)(spare[0] ^ 0x08), readSpare[0]);
    }

    [Fact]
    public void Spare_flips_count_towards_the_last_sector()
    {
        using var sim = Nand();
        sim.Program(0, Pattern(2048, 9), Pattern(64, 9));
        for (int i = 0; i < 3; i++)
        {
            sim.InjectBitFlipAt(0, (2048 * 8) + i);
        }

        sim.InjectBitFlips(0, 2, sector: 3);
        var result = sim.Read(0, new byte[2048], new byte[64]);
        Assert.Equal(EccStatus.Uncorrectable, result.Status);
    }

    [Fact]
    public void Injecting_outside_the_page_is_an_argument_error()
    {
        using var sim = Nand();
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.InjectBitFlipAt(0, -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.InjectBitFlipAt(0, (2048 + 64) * 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => sim.InjectBitFlips(sim.Geometry.PageCount, 1));
    }

    [Fact]
    public void Transient_bit_errors_are_corrected_and_do_not_stay()
    {
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNand, BitErrorRate = 5e-5, Seed = 3 });
        var data = Pattern(2048, 10);
        sim.Program(0, data, default);
        int corrected = 0, clean = 0;
        var read = new byte[2048];
        for (int i = 0; i < 300; i++)
        {
            var result = sim.Read(0, read, default);
            if (result.Status == EccStatus.Corrected)
            {
                corrected++;
            }
            else if (result.Status == EccStatus.Clean)
            {
                clean++;
            }

            if (result.IsUsable)
            {
                Assert.Equal(data, read);
            }
        }

        Assert.True(corrected > 0, "some reads saw transient errors");
        Assert.True(clean > 0, "some reads were clean");
        Assert.Equal(corrected, sim.Statistics.CorrectedReads);
    }

    [Fact]
    public void Read_disturb_adds_persistent_flips_after_the_threshold()
    {
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNand, ReadDisturbThreshold = 10, EccStrength = 0 });
        for (int page = 0; page < 8; page++)
        {
            sim.Program(page, Filled(2048, 0x00), default);
        }

        for (int i = 0; i < 10; i++)
        {
            _ = ReadData(sim, 0);
        }

        int flippedBefore = Enumerable.Range(0, 8).Sum(p => 2048 * 8 - ZeroBits(ReadData(sim, p)));
        Assert.True(flippedBefore > 0, "reads past the threshold disturbed the block");

        // Erasing resets the disturb count and the flips.
        sim.Erase(0);
        sim.Program(0, Filled(2048, 0x00), default);
        Assert.Equal(2048 * 8, ZeroBits(ReadData(sim, 0)));
    }

    [Fact]
    public void An_ECC_sector_size_that_does_not_divide_the_page_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNand, EccSectorSize = 500 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => FlashSimulator.Create(new FlashSimulatorOptions { Geometry = SmallNand, EccSectorSize = 0 }));
    }
}

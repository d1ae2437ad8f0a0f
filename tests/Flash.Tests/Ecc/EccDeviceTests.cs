using Flash.Drivers;
using Flash.Drivers.Ecc;
using Flash.Drivers.Simulation;

namespace Flash.Tests.Ecc;

public class EccDeviceTests
{
    private static readonly FlashGeometry Small = new(2048, 64, 8, 8);

    private static FlashSimulator RawNand() => FlashSimulator.Create(new FlashSimulatorOptions { Geometry = Small, EccStrength = 0 });

    private static byte[] Random(int length, int seed)
    {
        var b = new byte[length];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void Hamming_layout_is_the_Linux_one_and_codes_land_at_40_plus_3s()
    {
        using var sim = RawNand();
        using var dev = new EccDevice(sim, new HammingEcc(256));
        Assert.Equal(40, dev.EccOffset);
        Assert.Equal(2, dev.Geometry.SpareFreeOffset);
        Assert.Equal(38, dev.Geometry.SpareFreeLength);

        var data = Random(2048, 1);
        var spare = new byte[64];
        Array.Fill(spare, (byte)0xFF);
        spare[2] = 0x12;
        spare[39] = 0x34;
        dev.Program(0, data, spare);

        var raw = new byte[64];
        sim.Read(0, default, raw);
        var code = new HammingEcc(256);
        var expected = new byte[3];
        for (int s = 0; s < 8; s++)
        {
            code.Calculate(data.AsSpan(s * 256, 256), expected);
            Assert.Equal(expected, raw.AsSpan(40 + (3 * s), 3).ToArray());
        }

        Assert.Equal(0x12, raw[2]);
        Assert.Equal(0x34, raw[39]);
        Assert.Equal(0xFF, raw[0]);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void Bch_flips_within_t_in_every_sector_are_corrected(int t)
    {
        using var sim = RawNand();
        using var dev = new EccDevice(sim, new BchEcc(t));
        var data = Random(2048, t);
        dev.Program(0, data, default);
        var rng = new Random(t);
        for (int sector = 0; sector < 4; sector++)
        {
            var bits = new HashSet<int>();
            while (bits.Count < t)
            {
                bits.Add((sector * 4096) + rng.Next(4096));
            }

            foreach (int bit in bits)
            {
                sim.InjectBitFlipAt(0, bit);
            }
        }

        var read = new byte[2048];
        var result = dev.Read(0, read, default);
        Assert.Equal(EccStatus.Corrected, result.Status);
        Assert.Equal(4 * t, result.CorrectedBits);
        Assert.Equal(t, result.MaxSectorBits);
        Assert.Equal(data, read);
        Assert.Equal(1, dev.Statistics.CorrectedReads);
    }

    [Fact]
    public void Flips_in_the_stored_codes_are_corrected_too()
    {
        using var sim = RawNand();
        using var dev = new EccDevice(sim, new BchEcc(4));
        var data = Random(2048, 3);
        dev.Program(0, data, default);
        int eccBit = (2048 + dev.EccOffset) * 8;
        sim.InjectBitFlipAt(0, eccBit + 3);
        sim.InjectBitFlipAt(0, eccBit + 9);
        var read = new byte[2048];
        var result = dev.Read(0, read, default);
        Assert.Equal(EccStatus.Corrected, result.Status);
        Assert.Equal(2, result.CorrectedBits);
        Assert.Equal(data, read);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void A_sector_beyond_t_is_reported_uncorrectable_never_silently_wrong(int t)
    {
        using var sim = RawNand();
        IEccCode code = t == 1 ? new HammingEcc(512) : new BchEcc(t);
        using var dev = new EccDevice(sim, code);
        var rng = new Random(40 + t);
        var read = new byte[2048];
        for (int trial = 0; trial < 40; trial++)
        {
            dev.Erase(0);
            var data = Random(2048, trial);
            dev.Program(0, data, default);
            int sector = trial % 4;
            var bits = new HashSet<int>();
            while (bits.Count < t + 1)
            {
                bits.Add((sector * 4096) + rng.Next(4096));
            }

            foreach (int bit in bits)
            {
                sim.InjectBitFlipAt(0, bit);
            }

            var result = dev.Read(0, read, default);
            Assert.Equal(EccStatus.Uncorrectable, result.Status);
            Assert.False(result.IsUsable);
            for (int other = 0; other < 4; other++)
            {
                if (other != sector)
                {
                    Assert.Equal(data.AsSpan(other * 512, 512).ToArray(), read.AsSpan(other * 512, 512).ToArray());
                }
            }
        }

        Assert.Equal(40, dev.Statistics.UncorrectableReads);
    }

    [Fact]
    public void Erased_pages_read_clean_and_erased_with_flips_read_as_erased()
    {
        using var sim = RawNand();
        using var dev = new EccDevice(sim, new BchEcc(4));
        var read = new byte[2048];
        Assert.Equal(ReadResult.Clean, dev.Read(3, read, default));
        Assert.All(read, b => Assert.Equal(0xFF, b));

        sim.InjectBitFlipAt(3, 100);
        sim.InjectBitFlipAt(3, 5000);
        var result = dev.Read(3, read, default);
        Assert.Equal(EccStatus.Corrected, result.Status);
        Assert.All(read, b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void Spare_bytes_round_trip_and_the_ecc_region_is_not_the_callers()
    {
        using var sim = RawNand();
        using var dev = new EccDevice(sim, new BchEcc(8));
        Assert.Equal(64 - 56, dev.EccOffset);
        Assert.Equal(6, dev.Geometry.SpareFreeLength);
        var spare = new byte[64];
        Array.Fill(spare, (byte)0xA5);
        spare[0] = spare[1] = 0xFF;
        var data = Random(2048, 8);
        dev.Program(1, data, spare);
        var readSpare = new byte[64];
        var read = new byte[2048];
        Assert.Equal(ReadResult.Clean, dev.Read(1, read, readSpare));
        Assert.Equal(spare.AsSpan(0, 8).ToArray(), readSpare.AsSpan(0, 8).ToArray());
        Assert.Equal(data, read);
    }

    [Fact]
    public void Codes_that_do_not_fit_are_refused()
    {
        using var sim = RawNand();
        Assert.Throws<ArgumentException>(() => new EccDevice(sim, new BchEcc(16)));
        using var nor = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = FlashGeometry.Nor(256, 4, 4), EccSectorSize = 256 });
        Assert.Throws<ArgumentException>(() => new EccDevice(nor, new HammingEcc()));
    }

    [Fact]
    public void Page_program_and_read_allocate_nothing()
    {
        using var sim = RawNand();
        using var dev = new EccDevice(sim, new BchEcc(8));
        var data = Random(2048, 2);
        var read = new byte[2048];
        dev.Program(0, data, default);
        sim.InjectBitFlipAt(0, 77);
        dev.Read(0, read, default);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i < 8; i++)
        {
            dev.Program(i, data, default);
            dev.Read(i, read, default);
            dev.Read(0, read, default);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }
}

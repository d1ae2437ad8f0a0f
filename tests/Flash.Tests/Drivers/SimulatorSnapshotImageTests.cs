using Flash.Drivers;
using Flash.Drivers.Simulation;
using static Flash.Tests.Drivers.SimTestKit;

namespace Flash.Tests.Drivers;

public class SimulatorSnapshotImageTests
{
    [Fact]
    public void A_snapshot_is_isolated_from_later_writes_on_either_side()
    {
        using var sim = Nand();
        sim.Program(0, Pattern(2048, 1), default);
        var snapshot = sim.Snapshot();
        Assert.Equal(1, snapshot.MutationCount);
        Assert.True(snapshot.IsPowered);

        sim.Program(8, Pattern(2048, 2), default);
        sim.Erase(0);

        using var branch = FlashSimulator.FromSnapshot(snapshot);
        Assert.Equal(Pattern(2048, 1), ReadData(branch, 0));
        Assert.All(ReadData(branch, 8), b => Assert.Equal(0xFF, b));
        Assert.Equal(1, branch.MutationCount);
        Assert.Equal(0, branch.Statistics.PagePrograms);

        branch.Program(1, Pattern(2048, 3), default);
        using var second = FlashSimulator.FromSnapshot(snapshot);
        Assert.All(ReadData(second, 1), b => Assert.Equal(0xFF, b));
        Assert.All(ReadData(sim, 0), b => Assert.Equal(0xFF, b));
        Assert.All(ReadData(sim, 1), b => Assert.Equal(0xFF, b));
        Assert.Equal(Pattern(2048, 2), ReadData(sim, 8));
        Assert.Equal(Pattern(2048, 3), ReadData(branch, 1));
    }

    [Fact]
    public void A_snapshot_keeps_program_counts_wear_bad_blocks_flips_and_power()
    {
        using var sim = Nand();
        sim.Erase(2);
        sim.Erase(2);
        sim.Program(3, Pattern(2048, 1), default);
        sim.MarkBad(5);
        sim.InjectBitFlipAt(3, 17);
        sim.CutPower();
        var snapshot = sim.Snapshot();

        using var branch = FlashSimulator.FromSnapshot(snapshot);
        Assert.False(branch.IsPowered);
        Assert.Throws<PowerLossException>(() => branch.Read(3, new byte[2048], default));
        branch.PowerUp();
        Assert.Equal(2, branch.WearOf(2));
        Assert.Equal(1, branch.ProgramCountOf(3));
        Assert.Throws<ProgramRuleException>(() => branch.Program(3, Pattern(2048, 1), default));
        Assert.Throws<ProgramRuleException>(() => branch.Program(2, Pattern(2048, 1), default));
        Assert.True(branch.IsBad(5));
        var result = branch.Read(3, new byte[2048], default);
        Assert.Equal(new ReadResult(EccStatus.Corrected, 1, 1), result);
    }

    [Fact]
    public void Branches_continue_the_random_sequence_unless_given_a_new_seed()
    {
        using var sim = Nand(seed: 5);
        var snapshot = sim.Snapshot();

        byte[] CutPage(ulong? seed)
        {
            using var branch = FlashSimulator.FromSnapshot(snapshot, seed);
            branch.CutPowerAfter(1);
            Assert.Throws<PowerLossException>(() => branch.Program(0, Filled(2048, 0), default));
            branch.PowerUp();
            return ReadData(branch, 0);
        }

        Assert.Equal(CutPage(null), CutPage(null));
        Assert.Equal(CutPage(99), CutPage(99));
        Assert.NotEqual(CutPage(null), CutPage(99));
    }

    [Fact]
    public void Snapshots_do_not_copy_untouched_blocks()
    {
        // 128 MiB reference device: a hundred snapshots and branches must stay cheap.
        using var sim = FlashSimulator.Create();
        sim.Program(0, Pattern(2048, 1), default);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            using var branch = FlashSimulator.FromSnapshot(sim.Snapshot());
            branch.Program(64, Pattern(2048, 2), default);
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 100L * 2 * 1024 * 1024, $"allocated {allocated:N0} bytes for 100 branches");
        Assert.All(ReadData(sim, 64), b => Assert.Equal(0xFF, b));
    }

    [Fact]
    public void Image_round_trip_keeps_contents_and_program_state()
    {
        using var sim = Nand();
        var spare = Pattern(64, 1);
        spare[0] = spare[1] = 0xFF; // keep the bad-block marker clear
        sim.Program(0, Pattern(2048, 1), spare);
        sim.Program(10, Pattern(2048, 2), default);
        sim.Program(13, Pattern(2048, 3), default);
        var image = Image(sim);
        Assert.Equal(16L * 8 * (2048 + 64), image.Length);

        using var copy = FlashSimulator.LoadImage(new MemoryStream(image), sim.Options);
        Assert.Equal(image, Image(copy));
        Assert.Equal(Pattern(2048, 2), ReadData(copy, 10));
        Assert.Equal(spare, ReadSpare(copy, 0));
        Assert.False(copy.IsBad(0));
        Assert.Equal(1, copy.ProgramCountOf(10));
        Assert.Equal(0, copy.ProgramCountOf(11));
        Assert.Throws<ProgramRuleException>(() => copy.Program(10, Pattern(2048, 2), default));
        Assert.Throws<ProgramRuleException>(() => copy.Program(12, Pattern(2048, 2), default));
        copy.Program(14, Pattern(2048, 4), default);
    }

    [Fact]
    public void The_image_uses_the_nanddump_layout()
    {
        using var sim = Nand();
        var data = Filled(2048, 0x11);
        var spare = Filled(64, 0x22);
        sim.Program(9, data, spare);
        var image = Image(sim);
        int stride = 2048 + 64;
        Assert.Equal(data, image.AsSpan(9 * stride, 2048).ToArray());
        Assert.Equal(spare, image.AsSpan((9 * stride) + 2048, 64).ToArray());
        Assert.Equal(0xFF, image[(9 * stride) - 1]);
        Assert.Equal(0xFF, image[10 * stride]);
    }

    [Fact]
    public void Image_files_round_trip()
    {
        var path = Path.Combine(Path.GetTempPath(), $"flash-image-{Guid.NewGuid():N}.bin");
        try
        {
            using var sim = Nand();
            sim.Program(20, Pattern(2048, 5), default);
            sim.SaveImage(path);
            Assert.Equal(16L * 8 * (2048 + 64), new FileInfo(path).Length);
            using var copy = FlashSimulator.LoadImage(path, sim.Options);
            Assert.Equal(Pattern(2048, 5), ReadData(copy, 20));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(1)]
    [InlineData(-2112)]
    [InlineData(2112)]
    public void A_wrong_size_image_is_invalid_data(int delta)
    {
        var options = new FlashSimulatorOptions { Geometry = SmallNand };
        var bytes = Filled((16 * 8 * 2112) + delta, 0xFF);
        Assert.Throws<InvalidDataException>(() => FlashSimulator.LoadImage(new MemoryStream(bytes), options));
        Assert.Throws<InvalidDataException>(() => FlashSimulator.LoadImage(new NonSeekableStream(bytes), options));
    }

    [Fact]
    public void A_non_seekable_image_of_the_right_size_loads()
    {
        using var sim = Nand();
        sim.Program(0, Pattern(2048, 1), default);
        using var copy = FlashSimulator.LoadImage(new NonSeekableStream(Image(sim)), sim.Options);
        Assert.Equal(Pattern(2048, 1), ReadData(copy, 0));
    }

    private sealed class NonSeekableStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        // Return short reads to exercise the loader's loop.
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 1000));

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

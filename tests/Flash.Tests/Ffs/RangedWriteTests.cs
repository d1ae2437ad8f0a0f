using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>Writes of part of a file inside a transaction (<see cref="FlashTransaction.WriteAt"/>): content, atomicity with the rest of the batch, bad ranges.</summary>
public class RangedWriteTests
{
    [Fact]
    public void Slices_build_a_file_and_overwrite_parts_of_it()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var expected = FfsTestDevice.Pattern(40_000, 7);
        int chunk = fs.ChunkSize;
        var cuts = new[] { 0, 100, chunk, (3 * chunk) + 17, 20_000, 40_000 };
        for (int i = 0; i + 1 < cuts.Length; i++)
        {
            using var txn = fs.BeginTransaction();
            txn.WriteAt("/big", cuts[i], expected.AsSpan(cuts[i], cuts[i + 1] - cuts[i]));
            txn.WriteAllBytes("/state", BitConverter.GetBytes(cuts[i + 1]));
            txn.Commit();
            Assert.Equal(expected.AsSpan(0, cuts[i + 1]).ToArray(), fs.ReadAllBytes("/big"));
        }

        // Overwrites inside the file, across a chunk boundary and up to its end, keep everything else.
        var patch = FfsTestDevice.Pattern(3000, 9);
        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAt("/big", chunk - 1000, patch);
            txn.WriteAt("/small", 0, "abc"u8);
            txn.Commit();
        }

        patch.CopyTo(expected, chunk - 1000);
        Assert.Equal(expected, fs.ReadAllBytes("/big"));
        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAt("/small", 3, FfsTestDevice.Pattern(5000, 3));
            txn.WriteAt("/big", 40_000, patch);
            txn.Commit();
        }

        Assert.Equal([.. "abc"u8, .. FfsTestDevice.Pattern(5000, 3)], fs.ReadAllBytes("/small"));
        Assert.Equal([.. expected, .. patch], fs.ReadAllBytes("/big"));
        fs.Unmount();

        var again = FlashFileSystem.Mount(dev);
        Assert.Equal([.. expected, .. patch], again.ReadAllBytes("/big"));
        Assert.True(again.Check().IsClean);
        again.Unmount();
    }

    [Fact]
    public void A_range_past_the_end_or_into_a_missing_file_is_refused_and_nothing_is_written()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        fs.WriteAllBytes("/f", FfsTestDevice.Pattern(5000, 1));
        long programs = dev.Statistics.Capture().PagePrograms;

        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAllBytes("/other", [1, 2, 3]);
            txn.WriteAt("/f", 5001, [1]);
            var e = Assert.Throws<FlashWriteRangeException>(txn.Commit);
            Assert.Equal((5001L, 5000L), (e.Offset, e.Length));
        }

        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAt("/missing", 1, [1]);
            Assert.Equal(-1, Assert.Throws<FlashWriteRangeException>(txn.Commit).Length);
        }

        using (var txn = fs.BeginTransaction())
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => txn.WriteAt("/f", -1, [1]));
        }

        Assert.Equal(programs, dev.Statistics.Capture().PagePrograms);
        Assert.False(fs.Exists("/other"));
        Assert.Equal(FfsTestDevice.Pattern(5000, 1), fs.ReadAllBytes("/f"));
    }

    [Fact]
    public void A_power_cut_at_any_mutation_of_a_slice_commit_leaves_the_old_or_the_new_file_and_record()
    {
        using var dev = FfsTestDevice.Create();
        var fs = FfsTestDevice.FormatAndMount(dev);
        var first = FfsTestDevice.Pattern(10_000, 4);
        var slice = FfsTestDevice.Pattern(9_000, 5);
        using (var txn = fs.BeginTransaction())
        {
            txn.WriteAt("/big", 0, first);
            txn.WriteAllBytes("/state", [1]);
            txn.Commit();
        }

        fs.Unmount();
        var snapshot = dev.Snapshot();
        long mutations;
        using (var probe = FlashSimulator.FromSnapshot(snapshot))
        {
            long before = probe.MutationCount;
            var f = FlashFileSystem.Mount(probe);
            Slice(f, slice);
            mutations = probe.MutationCount - before;
        }

        Assert.True(mutations > 0);
        for (long k = 1; k <= mutations; k++)
        {
            using var cut = FlashSimulator.FromSnapshot(snapshot);
            var f = FlashFileSystem.Mount(cut);
            cut.CutPowerAtMutation(cut.MutationCount + k);
            try
            {
                Slice(f, slice);
            }
            catch (PowerLossException)
            {
            }

            cut.CancelPowerCut();
            cut.PowerUp();
            var after = FlashFileSystem.Mount(cut);
            var state = after.ReadAllBytes("/state");
            var big = after.ReadAllBytes("/big");
            Assert.True(state[0] == 1 ? big.AsSpan().SequenceEqual(first) : state[0] == 2 && big.AsSpan().SequenceEqual([.. first, .. slice]), $"cut {k} of {mutations}: state {state[0]}, {big.Length} bytes");
            Assert.True(after.Check().IsClean, $"cut {k} of {mutations}");
            after.Unmount();
        }
    }

    private static void Slice(FlashFileSystem fs, byte[] slice)
    {
        using var txn = fs.BeginTransaction();
        txn.WriteAt("/big", 10_000, slice);
        txn.WriteAllBytes("/state", [2]);
        txn.Commit();
    }
}

using System.Buffers.Binary;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// <c>Check(repair: true)</c> under power cuts: a volume with a damaged chunk is repaired with the power cut at every
/// mutation of the repair. After each cut the volume mounts, the undamaged files read their content, the damaged one
/// reads its content or fails as corrupt, a second repair leaves <c>Check()</c> clean, and a write survives a remount.
/// </summary>
public class CheckRepairPowerCutTests
{
    private static readonly FlashGeometry s_geometry = new(2048, 64, 16, 64);

    private static readonly byte[] s_keep = Data.Pattern(5000, 1);
    private static readonly byte[] s_small = Data.Pattern(90, 2);
    private static readonly byte[] s_victim = Data.Pattern(2048 * 5, 3);

    /// <summary>A volume holding /keep, /small and /victim (checkpointed), with one payload bit of /victim's chunk 2 flipped.</summary>
    private static FlashSimulatorSnapshot DamagedVolume(bool unmount)
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = s_geometry, Seed = 9 });
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xC4EC });
        var fs = FlashFileSystem.Mount(dev);
        fs.WriteAllBytes("/keep", s_keep);
        fs.WriteAllBytes("/small", s_small);
        fs.WriteAllBytes("/victim", s_victim);
        fs.Sync();
        if (unmount)
        {
            fs.Unmount();
        }
        else
        {
            // Something to replay after the checkpoint, so the mount recovers; /victim's damaged chunk is in the
            // checkpointed state (a replayed transaction with a damaged page is dropped instead, ReplayDependencyTests).
            fs.WriteAllBytes("/later", s_small);
        }

        using var ms = new MemoryStream();
        dev.SaveImage(ms);
        var image = ms.ToArray();
        int raw = s_geometry.PageSize + s_geometry.SpareSize;

        // /victim is the only file with five chunks: find its chunk 2 by the tags in the spare areas.
        var data = new List<(int Page, uint Id, uint Chunk)>();
        for (int p = 0; p < s_geometry.PageCount; p++)
        {
            var tag = image.AsSpan((p * raw) + s_geometry.PageSize + s_geometry.SpareFreeOffset, 32);
            if (tag[0] is 0xF1 or 0xF2 && (tag[1] & 0x0F) == 1)
            {
                data.Add((p, BinaryPrimitives.ReadUInt32LittleEndian(tag[12..]), BinaryPrimitives.ReadUInt32LittleEndian(tag[16..])));
            }
        }

        uint victim = data.GroupBy(d => d.Id).Single(g => g.Count() == 5).Key;
        int page = data.Single(d => d.Id == victim && d.Chunk == 2).Page;
        image[(page * raw) + 100] ^= 0x20;
        using var damaged = FlashSimulator.LoadImage(new MemoryStream(image), new FlashSimulatorOptions { Geometry = s_geometry, Seed = 9 });
        return damaged.Snapshot();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_power_cut_at_every_mutation_of_a_repair_leaves_a_volume_that_reads_right_and_repairs_again(bool cleanImage)
    {
        var snapshot = DamagedVolume(cleanImage);
        long mutations;
        using (var dev = FlashSimulator.FromSnapshot(snapshot))
        {
            var fs = FlashFileSystem.Mount(dev);
            long before = dev.MutationCount;
            Assert.Throws<FlashDataCorruptException>(() => fs.ReadAllBytes("/victim"));
            var report = fs.Check(repair: true);
            Assert.Contains(report.Problems, p => p.Kind == FsckProblemKind.CrcMismatch && p.Path == "/victim" && p.Repaired);
            mutations = dev.MutationCount - before;
            Assert.True(fs.Check().IsClean);
            fs.Unmount();
        }

        Assert.True(mutations > 0);
        var failures = new List<string>();
        for (long k = 1; k <= mutations; k++)
        {
            if (CutDuringRepair(snapshot, k) is { } failure)
            {
                failures.Add($"cut {k} of {mutations}: {failure}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(5)));
    }

    private static string? CutDuringRepair(FlashSimulatorSnapshot snapshot, long k)
    {
        using var dev = FlashSimulator.FromSnapshot(snapshot);
        var fs = FlashFileSystem.Mount(dev);
        dev.CutPowerAtMutation(dev.MutationCount + k);
        try
        {
            fs.Check(repair: true);
            return "the repair finished before the cut";
        }
        catch (PowerLossException)
        {
        }

        dev.CancelPowerCut();
        dev.PowerUp();
        fs = FlashFileSystem.Mount(dev);
        if (!fs.ReadAllBytes("/keep").AsSpan().SequenceEqual(s_keep) || !fs.ReadAllBytes("/small").AsSpan().SequenceEqual(s_small))
        {
            return "an undamaged file changed";
        }

        try
        {
            if (!fs.ReadAllBytes("/victim").AsSpan().SequenceEqual(s_victim))
            {
                return "/victim read bytes that were never written";
            }
        }
        catch (FlashDataCorruptException)
        {
        }

        fs.Check(repair: true);
        if (fs.Check() is { IsClean: false } left)
        {
            return $"a second repair left {left}";
        }

        var probe = Data.Pattern(3000, (int)k);
        fs.WriteAllBytes("/probe", probe);
        fs.Unmount();
        fs = FlashFileSystem.Mount(dev);
        if (!fs.ReadAllBytes("/probe").AsSpan().SequenceEqual(probe))
        {
            return "the write after the repair was lost";
        }

        // The repaired chunk is recorded as lost (format version 3): after the remount it still fails as corrupt.
        return Assert.Throws<FlashDataCorruptException>(() => fs.ReadAllBytes("/victim")) is null ? "unreachable" : null;
    }

    [Fact]
    public void A_power_cut_at_every_mutation_of_writes_over_a_lost_chunk_leaves_it_lost_or_defined_never_zeros()
    {
        FlashSimulatorSnapshot repaired;
        long mutations;
        using (var dev = FlashSimulator.FromSnapshot(DamagedVolume(unmount: true)))
        {
            var fs = FlashFileSystem.Mount(dev);
            fs.Check(repair: true);
            fs.Unmount();
            repaired = dev.Snapshot();
            fs = FlashFileSystem.Mount(dev);
            long before = dev.MutationCount;
            OverwriteThenTruncate(fs);
            fs.Unmount();
            mutations = dev.MutationCount - before;
        }

        // The states a remount may show: chunk 2 still lost (reads fail), chunk 2 written again, cut to one chunk, or
        // cut and extended (zeros after the first chunk, since the truncation forgot the mark).
        var rewritten = (byte[])s_victim.Clone();
        s_fresh.CopyTo(rewritten, 2 * 2048);
        var extended = new byte[s_victim.Length];
        s_victim.AsSpan(0, 2048).CopyTo(extended);
        var failures = new List<string>();
        for (long k = 1; k <= mutations; k++)
        {
            using var dev = FlashSimulator.FromSnapshot(repaired);
            var fs = FlashFileSystem.Mount(dev);
            dev.CutPowerAtMutation(dev.MutationCount + k);
            try
            {
                OverwriteThenTruncate(fs);
                fs.Unmount();
                failures.Add($"cut {k}: the writes finished before the cut");
                continue;
            }
            catch (PowerLossException)
            {
            }

            dev.CancelPowerCut();
            dev.PowerUp();
            for (int mount = 0; mount < 2; mount++)
            {
                fs = FlashFileSystem.Mount(dev);
                try
                {
                    var read = fs.ReadAllBytes("/victim");
                    if (!read.AsSpan().SequenceEqual(rewritten) && !read.AsSpan().SequenceEqual(extended) && !read.AsSpan().SequenceEqual(extended.AsSpan(0, 2048)))
                    {
                        failures.Add($"cut {k}, mount {mount}: /victim read {read.Length} bytes that were never its content");
                    }
                }
                catch (FlashDataCorruptException)
                {
                }

                fs.Unmount();
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(5)));
    }

    private static readonly byte[] s_fresh = Data.Pattern(2048, 77);

    /// <summary>Writes /victim's whole (lost) chunk 2 again, then cuts the file to one chunk and extends it back.</summary>
    private static void OverwriteThenTruncate(FlashFileSystem fs)
    {
        using (var file = fs.Open("/victim"))
        {
            file.Seek(2 * 2048, SeekOrigin.Begin);
            file.Write(s_fresh);
        }

        using (var file = fs.Open("/victim"))
        {
            file.SetLength(2048);
            file.Flush();
            file.SetLength(s_victim.Length);
        }
    }
}

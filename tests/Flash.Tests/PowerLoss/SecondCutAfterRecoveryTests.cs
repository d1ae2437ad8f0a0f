using System.Collections.Concurrent;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// A mount after a power cut whose replay applied everything writes no checkpoint: the next recovery starts from the
/// same checkpoint, finds the same pages and replays them again, and the pages written after the mount follow them
/// beyond the sequence jump. These sweeps prove it: after such a mount they run a second phase of writes (rewrites
/// that need garbage collection, new files, a checkpoint on the way) and cut power at every one of its mutations; the
/// volume must then hold what the first recovery showed plus the second phase up to the interrupted step.
/// </summary>
public class SecondCutAfterRecoveryTests(ITestOutputHelper output)
{
    private const int FirstCuts = 3;

    [Theory]
    [InlineData("gc-nearly-full", false)]
    [InlineData("small-files", true)]
    [InlineData("checkpoint-churn", true)]
    [InlineData("static-wear-levelling", false)]
    public void Every_cut_after_a_mount_without_checkpoint_recovers(string workload, bool grow)
    {
        var w = Workloads.Get(workload);
        var (start, lastMutation) = Record(w);
        int swept = 0;
        var failures = new List<string>();
        for (int k = 1; k <= FirstCuts; k++)
        {
            // Cut points spread over the run (a quarter, a half, three quarters of the way).
            long firstCut = start.MutationCount + ((lastMutation - start.MutationCount) * k / (FirstCuts + 1));
            using var dev = FlashSimulator.FromSnapshot(start, (ulong)firstCut);
            dev.CutPowerAtMutation(firstCut);
            var ctx = new WorkloadContext(dev, w.MountOptions);
            try
            {
                ctx.Mount();
                foreach (var step in w.Steps)
                {
                    step.Run(ctx);
                }

                ctx.Fs.Unmount();
            }
            catch (PowerLossException)
            {
            }

            dev.PowerUp();
            var afterCut = dev.Snapshot();
            var fs = FlashFileSystem.Mount(dev, w.MountOptions);
            var report = fs.MountReport;
            Assert.True(report.Recovered, report.ToString());
            if (report.CheckpointWritten)
            {
                output.WriteLine($"{workload} cut {firstCut}: the mount wrote a checkpoint ({report.CheckpointReason}), not swept");
                continue;
            }

            Assert.Equal(afterCut.MutationCount, dev.MutationCount);
            var seen = FsModel.Read(fs);
            var phase = SecondPhase(seen, grow);
            var (cuts, failed) = SweepSecondPhase(w, afterCut, seen, phase, firstCut);
            output.WriteLine($"{workload} cut {firstCut}: {report}; {cuts} second cut(s) over {phase.Count} step(s)");
            failures.AddRange(failed);
            swept++;
        }

        output.WriteLine($"{workload}: {swept} first cut(s) swept, {failures.Count} failure(s)");
        Assert.True(swept > 0, "no first cut left a mount without a checkpoint");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures.Take(5)));
    }

    /// <summary>Formats, runs the setup and returns the snapshot the swept run starts from and the run's last mutation.</summary>
    private static (FlashSimulatorSnapshot Start, long LastMutation) Record(Workload w)
    {
        FlashSimulatorSnapshot start;
        using (var dev = FlashSimulator.Create(w.SimulatorOptions()))
        {
            FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xC0FFEE });
            var ctx = new WorkloadContext(dev, w.MountOptions);
            ctx.Mount();
            foreach (var step in w.Setup)
            {
                step.Run(ctx);
            }

            ctx.Fs.Unmount();
            start = dev.Snapshot();
        }

        using var run = FlashSimulator.FromSnapshot(start);
        var c = new WorkloadContext(run, w.MountOptions);
        c.Mount();
        foreach (var step in w.Steps)
        {
            step.Run(c);
        }

        c.Fs.Unmount();
        return (start, run.MutationCount);
    }

    /// <summary>Rewrites of the files the first recovery showed (same sizes, so a full volume stays as full), and with <paramref name="grow"/> new files and a delete.</summary>
    private static IReadOnlyList<WorkloadStep> SecondPhase(FsModel seen, bool grow)
    {
        var b = new WorkloadBuilder(seen);
        var files = seen.Files.Order(StringComparer.Ordinal).ToList();
        if (grow)
        {
            b.Mkdir("/p2");
        }

        for (int i = 0; i < 16; i++)
        {
            if (files.Count > 0)
            {
                string f = files[i * 7 % files.Count];
                b.Write(f, Data.Pattern(b.Model.Content(f).Length, 7000 + i));
            }

            if (grow)
            {
                b.Write($"/p2/n{i}", Data.Pattern(2500 + (i * 977 % 6000), 8000 + i));
                if (i % 4 == 3)
                {
                    b.Delete($"/p2/n{i - 2}");
                }
            }
        }

        return b.Steps;
    }

    private static (int Cuts, List<string> Failures) SweepSecondPhase(Workload w, FlashSimulatorSnapshot afterCut, FsModel seen, IReadOnlyList<WorkloadStep> steps, long firstCut)
    {
        // The uninterrupted second phase: the model after each step and the mutation count that acknowledged it.
        var states = new List<FsModel> { seen.Clone() };
        var ackedAt = new List<long>();
        using (var run = FlashSimulator.FromSnapshot(afterCut))
        {
            var c = new WorkloadContext(run, w.MountOptions);
            c.Mount();
            var m = seen.Clone();
            foreach (var step in steps)
            {
                step.Run(c);
                step.Apply?.Invoke(m);
                states.Add(m.Clone());
                ackedAt.Add(run.MutationCount);
            }

            c.Fs.Unmount();
        }

        var failures = new ConcurrentBag<string>();
        var cuts = Enumerable.Range(1, (int)(ackedAt[^1] - afterCut.MutationCount)).Select(i => afterCut.MutationCount + i).ToList();
        Parallel.ForEach(cuts, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, cut =>
        {
            if (RunSecondCut(w, afterCut, steps, states, cut) is { } error)
            {
                failures.Add($"workload={w.Name} first_cut={firstCut} second_cut={cut}: {error}");
            }
        });
        return (cuts.Count, [.. failures.Order(StringComparer.Ordinal)]);
    }

    private static string? RunSecondCut(Workload w, FlashSimulatorSnapshot afterCut, IReadOnlyList<WorkloadStep> steps, List<FsModel> states, long cut)
    {
        try
        {
            using var dev = FlashSimulator.FromSnapshot(afterCut, (ulong)cut);
            dev.CutPowerAtMutation(cut);
            var ctx = new WorkloadContext(dev, w.MountOptions);
            int interrupted = -1;
            try
            {
                ctx.Mount();
                for (int i = 0; i < steps.Count; i++)
                {
                    interrupted = i;
                    steps[i].Run(ctx);
                }

                return "the cut was never reached";
            }
            catch (PowerLossException)
            {
            }

            dev.PowerUp();
            var fs = FlashFileSystem.Mount(dev, w.MountOptions);
            var got = FsModel.Read(fs);
            var before = states[Math.Max(0, interrupted)];
            var after = states[Math.Max(0, interrupted) + 1];
            if (!got.SameAs(before) && !got.SameAs(after))
            {
                return $"after a cut in step {interrupted} ('{steps[interrupted].Name}') the volume matches neither the state before ({before.Diff(got)}) nor after ({after.Diff(got)})";
            }

            var check = fs.Check();
            if (!check.IsClean)
            {
                return "fsck: " + check;
            }

            fs.Unmount();
            return null;
        }
        catch (Exception ex)
        {
            return "unexpected " + ex.GetType().Name + ": " + ex.Message + Environment.NewLine + ex.StackTrace;
        }
    }
}

using System.Collections.Concurrent;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// Runs a workload once to count its mutations, then for each cut point branches from a snapshot of the device,
/// cuts power at that mutation, powers up, mounts and checks: everything acknowledged is intact, the interrupted step
/// is all or nothing, fsck is clean and the volume takes new writes. Some cut points also cut a second time while the
/// volume finishes its recovery (the first checkpoint and write after the recovering mount).
/// </summary>
internal sealed class PowerCutSweeper
{
    private const string ProbePath = "/.probe";
    private const string AfterPath = "/.after";
    private static readonly HashSet<string> s_probes = [ProbePath, AfterPath];

    private readonly Workload _workload;
    private FlashSimulatorSnapshot _snapshot = null!;
    private readonly List<FsModel> _states = [];
    private readonly List<long> _ackedAt = [];

    public PowerCutSweeper(Workload workload) => _workload = workload;

    /// <summary>Lifetime index of the first mutation the sweep can cut.</summary>
    public long FirstCut => _snapshot.MutationCount + 1;

    /// <summary>Lifetime index of the last mutation of the recorded run.</summary>
    public long LastCut => _ackedAt[^1];

    public long Mutations => LastCut - _snapshot.MutationCount;

    /// <summary>Formats, runs the setup, snapshots, and records the swept run (mutation count after every step).</summary>
    public void Prepare()
    {
        using (var dev = FlashSimulator.Create(_workload.SimulatorOptions()))
        {
            FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xC0FFEE });
            var ctx = new WorkloadContext(dev, _workload.MountOptions);
            ctx.Mount();
            var model = new FsModel();
            foreach (var step in _workload.Setup)
            {
                step.Run(ctx);
                step.Apply?.Invoke(model);
            }

            ctx.Fs.Unmount();
            _snapshot = dev.Snapshot();
            _states.Add(model);
        }

        using var run = FlashSimulator.FromSnapshot(_snapshot);
        var c = new WorkloadContext(run, _workload.MountOptions);
        c.Mount();
        var m = _states[0].Clone();
        foreach (var step in _workload.Steps)
        {
            step.Run(c);
            step.Apply?.Invoke(m);
            _states.Add(m.Clone());
            _ackedAt.Add(run.MutationCount);
        }

        c.Fs.Unmount();
        _ackedAt.Add(run.MutationCount);
        var final = FlashFileSystem.Mount(run);
        string? diff = m.Diff(FsModel.Read(final));
        final.Unmount();
        if (diff is not null)
        {
            throw new InvalidOperationException($"{_workload.Name}: the uninterrupted run does not match its model: {diff}");
        }
    }

    public ulong SeedFor(long cut) => PowerLossProfile.Mix(PowerLossProfile.Hash(_workload.Name), (ulong)cut);

    /// <summary>The second cut tried at this cut point (0: none): every fourth cut point in the quick profile, every other one in the exhaustive one.</summary>
    public int SecondCutFor(long cut)
    {
        ulong h = PowerLossProfile.Mix(SeedFor(cut), 2);
        int every = PowerLossProfile.Exhaustive ? 2 : 4;
        return h % (ulong)every == 0 ? 1 + (int)((h >> 8) % 12) : 0;
    }

    /// <summary>The cut points of the sweep: all in the exhaustive profile, else a seeded sample.</summary>
    public IReadOnlyList<long> CutPoints(int quota)
    {
        var all = Enumerable.Range(0, (int)Mutations).Select(i => FirstCut + i).ToList();
        if (PowerLossProfile.Exhaustive || _workload.EveryCut || all.Count <= quota)
        {
            return all;
        }

        var rng = new Random((int)PowerLossProfile.Hash(_workload.Name));
        var picked = new SortedSet<long> { all[0], all[^1] };
        while (picked.Count < quota)
        {
            picked.Add(all[rng.Next(all.Count)]);
        }

        return [.. picked];
    }

    /// <summary>
    /// Sweeps the given cut points in parallel; returns one message per failing cut point. A pass above 0 repeats the
    /// same cut points with other seeds, so torn pages and half-erased blocks come out differently.
    /// </summary>
    public IReadOnlyList<string> Sweep(IReadOnlyList<long> cuts, int pass = 0)
    {
        var failures = new ConcurrentBag<(long Cut, string Message)>();
        Parallel.ForEach(cuts, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, cut =>
        {
            ulong seed = pass == 0 ? SeedFor(cut) : PowerLossProfile.Mix(SeedFor(cut), 1000 + (ulong)pass);
            int second = SecondCutFor(cut);
            if (RunCut(cut, seed, second) is { } error)
            {
                failures.Add((cut, Describe(cut, seed, second, error)));
            }
        });
        return [.. failures.OrderBy(f => f.Cut).Select(f => f.Message)];
    }

    public string Describe(long cut, ulong seed, int second, string error)
        => $"workload={_workload.Name} cut={cut} seed={seed} second_cut={second}: {error}{Environment.NewLine}  replay: {PowerLossProfile.ReplayCommand(_workload.Name, cut, seed, second)}";

    /// <summary>Runs one cut point; returns null when every check passed, else what went wrong.</summary>
    public string? RunCut(long cut, ulong seed, int secondCut)
    {
        try
        {
            return RunCutCore(cut, seed, secondCut);
        }
        catch (Exception ex)
        {
            return "unexpected " + ex.GetType().Name + ": " + ex.Message + Environment.NewLine + ex.StackTrace;
        }
    }

    private string? RunCutCore(long cut, ulong seed, int secondCut)
    {
        using var dev = FlashSimulator.FromSnapshot(_snapshot, seed);
        dev.CutPowerAtMutation(cut);
        var ctx = new WorkloadContext(dev, _workload.MountOptions);

        // Index of the interrupted step in _workload.Steps; Steps.Count for the final unmount; -1 for the first mount.
        int interrupted = -2;
        int i = -1;
        try
        {
            ctx.Mount();
            for (i = 0; i < _workload.Steps.Count; i++)
            {
                _workload.Steps[i].Run(ctx);
            }

            ctx.Fs.Unmount();
        }
        catch (PowerLossException)
        {
            interrupted = i;
        }

        if (interrupted == -2)
        {
            return "the cut was never reached: the run is not deterministic";
        }

        int expectedStep = interrupted < 0 ? 0 : _ackedAt.FindIndex(a => a >= cut);
        if (interrupted >= 0 && expectedStep != interrupted)
        {
            return $"the cut struck step {interrupted} but the recorded run placed mutation {cut} in step {expectedStep}: not deterministic";
        }

        string stepName = interrupted < 0 ? "mount" : interrupted < _workload.Steps.Count ? _workload.Steps[interrupted].Name : "final unmount";
        var before = _states[Math.Max(0, Math.Min(interrupted, _states.Count - 1))];
        var after = _states[Math.Min(interrupted + 1, _states.Count - 1)];
        if (interrupted < 0)
        {
            after = before;
        }

        dev.PowerUp();
        FlashFileSystem fs;
        try
        {
            fs = FlashFileSystem.Mount(dev, _workload.MountOptions);
        }
        catch (Exception ex)
        {
            return $"mount after a cut in step '{stepName}' failed: {ex.GetType().Name}: {ex.Message}";
        }

        var seen = FsModel.Read(fs, s_probes);
        if (!seen.SameAs(before) && !seen.SameAs(after))
        {
            return $"after a cut in step '{stepName}' the volume matches neither the state before ({before.Diff(seen)}) nor after ({after.Diff(seen)})";
        }

        byte[] probe = Data.Pattern(3000, (int)(seed & 0xFFFF));
        if (secondCut > 0)
        {
            // Second cut while the recovered volume writes for the first time (checkpoint, erase of torn blocks, a file).
            dev.CutPowerAfter(secondCut);
            try
            {
                fs.Sync();
                fs.WriteAllBytes(ProbePath, probe);
                fs.Unmount();
            }
            catch (PowerLossException)
            {
            }
            catch (FlashNoSpaceException) when (_workload.MayBeFull)
            {
                dev.CutPower();
            }

            dev.CancelPowerCut();
            dev.PowerUp();
            try
            {
                fs = FlashFileSystem.Mount(dev, _workload.MountOptions);
            }
            catch (Exception ex)
            {
                return $"mount after the second cut ({secondCut}) failed: {ex.GetType().Name}: {ex.Message}";
            }

            var again = FsModel.Read(fs, s_probes);
            if (again.Diff(seen) is { } d)
            {
                return $"the second cut ({secondCut}) during recovery changed acknowledged state: {d}";
            }

            if (fs.Exists(ProbePath) && !fs.ReadAllBytes(ProbePath).AsSpan().SequenceEqual(probe))
            {
                return "the probe file interrupted by the second cut is torn";
            }
        }

        var report = fs.Check();
        if (!report.IsClean)
        {
            return $"fsck after a cut in step '{stepName}': {report}";
        }

        var fresh = Data.Pattern(5000, (int)(seed >> 16 & 0xFFFF));
        try
        {
            fs.WriteAllBytes(AfterPath, fresh);
        }
        catch (FlashNoSpaceException) when (_workload.MayBeFull)
        {
            fs.Unmount();
            return null;
        }

        if (!fs.ReadAllBytes(AfterPath).AsSpan().SequenceEqual(fresh))
        {
            return "a write after recovery reads back wrong";
        }

        fs.Unmount();
        fs = FlashFileSystem.Mount(dev, _workload.MountOptions);
        try
        {
            if (FsModel.Read(fs, s_probes).Diff(seen) is { } d2)
            {
                return $"after recovery, a write and a clean remount the state changed: {d2}";
            }

            if (!fs.ReadAllBytes(AfterPath).AsSpan().SequenceEqual(fresh))
            {
                return "the write after recovery did not survive a remount";
            }
        }
        finally
        {
            fs.Unmount();
        }

        return null;
    }
}

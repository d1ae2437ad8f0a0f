using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Tests.Ffs.Recovery;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// The delta-checkpoints power-cut workload (<see cref="Workloads.DeltaCheckpoints"/>) does what it is for: run
/// uncut, its checkpoints go base, delta, delta, delta, base, delta, (remount) base, delta; and the quick profile
/// cuts at every one of its mutations (the sweep itself is PowerCutSweepTests' case "delta-checkpoints").
/// </summary>
public sealed class DeltaCheckpointWorkloadTests
{
    [Fact]
    public void Its_checkpoints_go_base_delta_delta_then_base_again()
    {
        var w = Workloads.DeltaCheckpoints();
        var log = new RecordingLogger();
        var options = new FlashFileSystemOptions { Logger = log, CheckpointIntervalBlocks = w.MountOptions.CheckpointIntervalBlocks };
        using var dev = FlashSimulator.Create(w.SimulatorOptions());
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xC0FFEE });
        var ctx = new WorkloadContext(dev, options);
        ctx.Mount();
        foreach (var step in w.Setup)
        {
            step.Run(ctx);
        }

        ctx.Fs.Unmount();
        ctx.Mount();
        log.Entries.Clear();
        foreach (var step in w.Steps)
        {
            step.Run(ctx);
        }

        var kinds = log.Entries
            .Where(e => e.Id == FfsEvents.Checkpoint && e.Message.Contains("heckpoint (", StringComparison.Ordinal))
            .Select(e => e.Message.Contains("(delta)", StringComparison.Ordinal) ? 'D' : 'B');
        string sequence = string.Concat(kinds);

        // The syncs and the remount's unmount, in order (no other checkpoint runs at this interval).
        Assert.Equal("BDDDBDDBD", sequence);
        ctx.Fs.Unmount();
    }

    [Fact]
    public void The_quick_profile_cuts_at_every_mutation()
    {
        var sweeper = new PowerCutSweeper(Workloads.DeltaCheckpoints());
        sweeper.Prepare();
        Assert.Equal(sweeper.Mutations, sweeper.CutPoints(PowerLossProfile.QuickCutsPerWorkload).Count);
    }
}

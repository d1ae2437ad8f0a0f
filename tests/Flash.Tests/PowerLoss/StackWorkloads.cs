using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// Workloads of the layers above the file system (current/alternate contexts, boot flag). Their on-flash effect (the
/// context table's bytes, generation and CRC) is not worth re-deriving in the model, so the model is recorded: each
/// step is run once on a reference device and the whole tree read back after it becomes that step's expected state.
/// </summary>
internal static class StackWorkloads
{
    public static IEnumerable<Workload> All()
    {
        yield return ContextSwitch();
        yield return BootFlag();
    }

    /// <summary>Downloads into the alternate area, marks it complete, switches (plain and trial), confirms, invalidates.</summary>
    private static Workload ContextSwitch()
    {
        var steps = new List<(string, Action<WorkloadContext>)>();
        for (int release = 2; release < 2 + Workloads.Scale; release++)
        {
            int r = release;
            steps.Add(($"download release {r}", c => Store(c).WriteAlternate(Release(r))));
            steps.Add(($"mark release {r} complete", c => Store(c).MarkAlternateComplete($"r{r}")));
            steps.Add(($"switch to release {r}", c => Store(c).SwitchContexts(trial: r % 2 == 0)));
            if (r % 2 == 0)
            {
                steps.Add(($"confirm release {r}", c => Store(c).ConfirmCurrent()));
            }
        }

        steps.Add(("invalidate alternate", c => { var s = Store(c); s.Invalidate(s.Alternate); }));
        return Recorded("context-switch", InstallRelease1, steps);
    }

    /// <summary>Sets, consumes and clears the alternate-boot flag around a trial.</summary>
    private static Workload BootFlag()
    {
        var steps = new List<(string, Action<WorkloadContext>)>
        {
            ("download release 2", c => Store(c).WriteAlternate(Release(2))),
            ("mark complete", c => Store(c).MarkAlternateComplete("r2")),
        };
        for (int i = 0; i < Workloads.Scale; i++)
        {
            steps.Add(("set alternate boot", c => Store(c).SetAlternateBoot(retries: 2)));
            steps.Add(("consume a retry", c => Store(c).ConsumeBootRetry()));
            steps.Add(("clear alternate boot", c => Store(c).ClearAlternateBoot()));
        }

        return Recorded("boot-flag", InstallRelease1, steps);
    }

    private static void InstallRelease1(WorkloadContext c)
    {
        c.Fs.Unmount();
        ContextStore.Format(c.Device, new FormatOptions { VolumeId = 0xC0FFEE });
        c.Mount();
        var store = Store(c);
        store.WriteAlternate(Release(1));
        store.MarkAlternateComplete("r1");
        store.SwitchContexts();
    }

    private static ContextStore Store(WorkloadContext c) => ContextStore.Open(c.Fs);

    private static Dictionary<string, byte[]> Release(int release) => new()
    {
        ["components/line-card.bin"] = Data.Pattern(9000 + (release * 37), release),
        ["components/fpga.bit"] = Data.Pattern(3000 + release, 100 + release),
        ["sgc.map"] = Data.Pattern(300, 200 + release),
        ["config/node.cfg"] = Data.Pattern(200, 300 + release),
    };

    private static Workload Recorded(string name, Action<WorkloadContext> setup, IReadOnlyList<(string Name, Action<WorkloadContext> Run)> steps)
    {
        var geometry = Workloads.Small;
        var reference = new Workload { Name = name, Geometry = geometry, Steps = [] };
        using var dev = FlashSimulator.Create(reference.SimulatorOptions());
        FlashFileSystem.Format(dev, new FormatOptions { VolumeId = 0xC0FFEE });
        var c = new WorkloadContext(dev, reference.MountOptions);
        c.Mount();
        setup(c);
        var afterSetup = FsModel.Read(c.Fs);
        var recorded = new List<WorkloadStep>();
        foreach (var (stepName, run) in steps)
        {
            run(c);
            var expected = FsModel.Read(c.Fs);
            recorded.Add(new WorkloadStep(stepName, run, m => m.ReplaceWith(expected)));
        }

        c.Fs.Unmount();
        return new Workload
        {
            Name = name,
            Geometry = geometry,
            Setup = [new WorkloadStep("install release 1", setup, m => m.ReplaceWith(afterSetup))],
            Steps = recorded,
        };
    }
}

namespace Flash.Drivers.Simulation;

public sealed partial class FlashSimulator
{
    /// <summary>
    /// Captures the whole device state (contents, program counts, wear, injected faults, random state, power).
    /// Cheap: blocks are shared copy-on-write, so the cost is a few arrays of per-page counters.
    /// </summary>
    /// <returns>An immutable snapshot to branch new simulators from.</returns>
    public FlashSimulatorSnapshot Snapshot()
    {
        Enter();
        try
        {
            // From now on both this device and the snapshot reference the same block arrays; whoever writes clones first.
            Array.Clear(_owned);
            var stuck = new Dictionary<int, int[]>(_stuckBits.Count);
            foreach (var (page, bits) in _stuckBits)
            {
                stuck[page] = [.. bits];
            }

            return new FlashSimulatorSnapshot(
                Options,
                (byte[][])_blocks.Clone(),
                (byte[])_programCounts.Clone(),
                (int[])_highestProgrammed.Clone(),
                (long[])_wear.Clone(),
                (bool[])_norBad.Clone(),
                stuck,
                _random.State,
                MutationCount,
                IsPowered);
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>Creates a new simulator in exactly the state of a snapshot (with fresh statistics and no scheduled faults).</summary>
    /// <param name="snapshot">The snapshot.</param>
    /// <param name="seed">A different seed for the new branch's random choices, or null to continue the snapshot's sequence.</param>
    /// <returns>The new simulator.</returns>
    public static FlashSimulator FromSnapshot(FlashSimulatorSnapshot snapshot, ulong? seed = null)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        var sim = new FlashSimulator(snapshot.Options, (byte[][])snapshot.Blocks.Clone(), new bool[snapshot.Blocks.Length]);
        snapshot.ProgramCounts.CopyTo(sim._programCounts, 0);
        snapshot.HighestProgrammed.CopyTo(sim._highestProgrammed, 0);
        snapshot.Wear.CopyTo(sim._wear, 0);
        snapshot.NorBad.CopyTo(sim._norBad, 0);
        foreach (var (page, bits) in snapshot.StuckBits)
        {
            sim._stuckBits[page] = [.. bits];
        }

        sim._random = new SimRandom(seed ?? snapshot.RandomState);
        sim.MutationCount = snapshot.MutationCount;
        sim.IsPowered = snapshot.IsPowered;
        return sim;
    }
}

/// <summary>An immutable copy of a <see cref="FlashSimulator"/>'s state, to branch new simulators from.</summary>
public sealed class FlashSimulatorSnapshot
{
    internal FlashSimulatorSnapshot(
        FlashSimulatorOptions options,
        byte[][] blocks,
        byte[] programCounts,
        int[] highestProgrammed,
        long[] wear,
        bool[] norBad,
        Dictionary<int, int[]> stuckBits,
        ulong randomState,
        long mutationCount,
        bool isPowered)
    {
        Options = options;
        Blocks = blocks;
        ProgramCounts = programCounts;
        HighestProgrammed = highestProgrammed;
        Wear = wear;
        NorBad = norBad;
        StuckBits = stuckBits;
        RandomState = randomState;
        MutationCount = mutationCount;
        IsPowered = isPowered;
    }

    /// <summary>The options of the device the snapshot was taken from.</summary>
    public FlashSimulatorOptions Options { get; }

    /// <summary>The device's lifetime mutation count at the snapshot.</summary>
    public long MutationCount { get; }

    /// <summary>Whether the device had power at the snapshot.</summary>
    public bool IsPowered { get; }

    internal byte[][] Blocks { get; }

    internal byte[] ProgramCounts { get; }

    internal int[] HighestProgrammed { get; }

    internal long[] Wear { get; }

    internal bool[] NorBad { get; }

    internal Dictionary<int, int[]> StuckBits { get; }

    internal ulong RandomState { get; }
}

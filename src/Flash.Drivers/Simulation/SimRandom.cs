namespace Flash.Drivers.Simulation;

/// <summary>A tiny deterministic generator (SplitMix64) whose whole state is one value, so snapshots can copy it.</summary>
internal struct SimRandom
{
    private ulong _state;

    public SimRandom(ulong seed) => _state = seed;

    public readonly ulong State => _state;

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, bound).</summary>
    public int Next(int bound) => (int)(NextUInt64() % (ulong)bound);

    /// <summary>A value in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public byte NextByte() => (byte)NextUInt64();

    public bool Chance(double probability) => probability > 0 && NextDouble() < probability;

    /// <summary>How many of <paramref name="trials"/> independent events of probability <paramref name="p"/> happen (Poisson approximation for rare events).</summary>
    public int Binomial(int trials, double p)
    {
        if (p <= 0)
        {
            return 0;
        }

        double lambda = trials * p;
        double limit = Math.Exp(-lambda), product = NextDouble();
        int k = 0;
        while (product > limit && k < trials)
        {
            k++;
            product *= NextDouble();
        }

        return k;
    }
}

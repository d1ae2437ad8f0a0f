namespace Flash.Benchmarks.Workloads;

/// <summary>
/// What a pure greedy collector achieves on W9's shape, two ways, for comparison with the file system's GC-only WA
/// (user pages plus GC moves, over user pages; checkpoints are not part of either model):
/// <see cref="FloorWa"/> the analytical large-block limit, <see cref="Simulate"/> a small simulation with the same
/// block and page counts.
/// </summary>
internal static class GreedyModel
{
    /// <summary>
    /// The classical mean-field model of uniform random overwrites (Desnoyers, "Analytic modeling of SSD write
    /// performance", SYSTOR 2012; the large-block limit, where greedy and FIFO cleaning agree): a victim keeps the
    /// live fraction x of its pages that survived the writes made since it was filled, x = exp(-(1 - x) / u) at
    /// utilisation u (live pages over the pages that can hold data or garbage), and WA = 1 / (1 - x). Greedy with
    /// 64 pages a block does a little better than this (the simulation shows how much).
    /// </summary>
    /// <param name="u">Utilisation: live pages over usable pages, in (0, 1).</param>
    /// <returns>The write amplification.</returns>
    public static double FloorWa(double u)
    {
        if (u <= 0)
        {
            return 1;
        }

        if (u >= 1)
        {
            return double.PositiveInfinity;
        }

        // f(x) = x - exp(-(1 - x) / u) is negative at 0 and positive just below 1 (slope 1 - 1/u < 0 at the trivial
        // root x = 1): bisect for the root inside.
        double lo = 0, hi = 1 - 1e-12;
        for (int i = 0; i < 200; i++)
        {
            double mid = (lo + hi) / 2;
            if (mid - Math.Exp(-(1 - mid) / u) < 0)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return 1 / (1 - lo);
    }

    /// <summary>
    /// Simulates a pure greedy collector: <paramref name="blocks"/> blocks of <paramref name="pagesPerBlock"/> pages,
    /// <paramref name="livePages"/> logical pages written once in order, then uniformly random single-page overwrites
    /// (seeded). One write head; when it needs a block and no more than <paramref name="freeFloor"/> (at least 2) are free, the block with the fewest
    /// live pages is collected (its live pages rewritten through the head) and erased. After a warm-up of twice the
    /// device's pages, WA is measured over <paramref name="measuredWrites"/> user pages.
    /// </summary>
    /// <param name="blocks">Blocks that can hold data or garbage.</param>
    /// <param name="pagesPerBlock">Pages a block.</param>
    /// <param name="livePages">Logical pages (the live data).</param>
    /// <param name="freeFloor">Free blocks kept, at least 1.</param>
    /// <param name="measuredWrites">User page writes measured.</param>
    /// <param name="seed">The generator's seed.</param>
    /// <returns>(user pages + moves) / user pages over the measured writes.</returns>
    public static double Simulate(int blocks, int pagesPerBlock, int livePages, int freeFloor, long measuredWrites, int seed = 42)
    {
        if (livePages >= (long)(blocks - freeFloor - 1) * pagesPerBlock)
        {
            throw new ArgumentException("The live pages do not fit beside the free floor.", nameof(livePages));
        }

        var model = new Model(blocks, pagesPerBlock, livePages, Math.Max(2, freeFloor));
        for (int p = 0; p < livePages; p++)
        {
            model.Write(p);
        }

        var rng = new Random(seed);
        long warmUp = 2L * blocks * pagesPerBlock;
        for (long i = 0; i < warmUp; i++)
        {
            model.Write(rng.Next(livePages));
        }

        long moved0 = model.Moves;
        for (long i = 0; i < measuredWrites; i++)
        {
            model.Write(rng.Next(livePages));
        }

        return (double)(measuredWrites + model.Moves - moved0) / measuredWrites;
    }

    /// <summary>The simulated device: where each logical page lives, each block's live pages, the free list.</summary>
    private sealed class Model
    {
        private readonly int _ppb;
        private readonly int _floor;
        private readonly int[] _where;        // logical page -> physical page, -1 unwritten
        private readonly int[] _owner;        // physical page -> logical page, -1 dead or free
        private readonly int[] _valid;        // live pages per block
        private readonly Stack<int> _free = new();
        private int _head = -1, _pointer;

        public Model(int blocks, int ppb, int logical, int floor)
        {
            _ppb = ppb;
            _floor = floor;
            _where = new int[logical];
            Array.Fill(_where, -1);
            _owner = new int[blocks * ppb];
            Array.Fill(_owner, -1);
            _valid = new int[blocks];
            for (int b = blocks - 1; b >= 0; b--)
            {
                _free.Push(b);
            }
        }

        public long Moves { get; private set; }

        public void Write(int logical)
        {
            int old = _where[logical];
            if (old >= 0)
            {
                _owner[old] = -1;
                _valid[old / _ppb]--;
            }

            Program(logical);
        }

        private void Program(int logical, bool collecting = false)
        {
            if (_head < 0 || _pointer == _ppb)
            {
                if (collecting)
                {
                    // Collection's own moves take a free block without collecting again (the floor is there for them).
                    _head = _free.Pop();
                    _pointer = 0;
                }
                else
                {
                    Open();
                }
            }

            int page = (_head * _ppb) + _pointer++;
            _owner[page] = logical;
            _where[logical] = page;
            _valid[_head]++;
        }

        private void Open()
        {
            _head = -1;
            while (_free.Count <= _floor)
            {
                Collect();
                if (_head >= 0 && _pointer < _ppb)
                {
                    // The collection's moves opened a block with room left: user writes continue in it.
                    return;
                }
            }

            _head = _free.Pop();
            _pointer = 0;
        }

        /// <summary>Greedy: the full block (not the head) with the fewest live pages, moved through the head.</summary>
        private void Collect()
        {
            int victim = -1;
            for (int b = 0; b < _valid.Length; b++)
            {
                if (b != _head && !IsFree(b) && (victim < 0 || _valid[b] < _valid[victim]))
                {
                    victim = b;
                }
            }

            for (int p = victim * _ppb; p < (victim + 1) * _ppb; p++)
            {
                int logical = _owner[p];
                if (logical < 0)
                {
                    continue;
                }

                _owner[p] = -1;
                _valid[victim]--;
                Moves++;
                Program(logical, collecting: true);
            }

            _free.Push(victim);
        }

        private bool IsFree(int block) => _free.Contains(block);
    }
}

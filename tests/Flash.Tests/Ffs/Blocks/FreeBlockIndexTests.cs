using Flash.Ffs.Blocks;

namespace Flash.Tests.Ffs.Blocks;

/// <summary>
/// The incremental free-block index and erase-count summary give the choice a walk over every block would: checked
/// against that walk after every step of random adds, removals and erase-count changes.
/// </summary>
public sealed class FreeBlockIndexTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Picks_what_a_walk_over_the_table_picks(int seed)
    {
        const int blocks = 200;
        var rng = new Random(seed);
        var index = new FreeBlockIndex(blocks);
        var free = new bool[blocks];
        var ec = new uint[blocks];
        var erased = new bool[blocks];
        var reservations = new BlockReservations();
        for (int step = 0; step < 5000; step++)
        {
            int b = rng.Next(blocks);
            if (free[b])
            {
                index.Remove(b, ec[b], erased[b]);
                if (rng.Next(2) == 0)
                {
                    // An erase in place: count and flag change, the block stays free.
                    ec[b]++;
                    erased[b] = true;
                    index.Add(b, ec[b], erased[b]);
                }
                else
                {
                    free[b] = false;
                }
            }
            else
            {
                free[b] = true;
                erased[b] = rng.Next(3) == 0;
                ec[b] += (uint)rng.Next(2);
                index.Add(b, ec[b], erased[b]);
            }

            reservations.Hot = rng.Next(4) == 0 ? rng.Next(blocks) : -1;
            reservations.Checkpoint = rng.Next(4) == 0 ? rng.Next(blocks) : -1;
            uint cap = (uint)rng.Next(0, 8);
            int exclude = rng.Next(blocks);
            Check(index, free, ec, erased, mostWorn: false, cap, erasedOnly: false, reservations, -1);
            Check(index, free, ec, erased, mostWorn: true, cap, erasedOnly: false, reservations, -1);
            Check(index, free, ec, erased, mostWorn: true, uint.MaxValue, erasedOnly: true, reservations, exclude);
            Check(index, free, ec, erased, mostWorn: false, uint.MaxValue, erasedOnly: true, null, exclude);
            Assert.Equal(free.Count(f => f), index.Count);
        }
    }

    [Fact]
    public void The_summary_follows_the_highest_and_mean_count()
    {
        var summary = new EraseCountSummary();
        var counts = new List<uint>();
        var rng = new Random(5);
        for (int step = 0; step < 3000; step++)
        {
            if (counts.Count > 0 && rng.Next(3) == 0)
            {
                int i = rng.Next(counts.Count);
                summary.Remove(counts[i]);
                counts.RemoveAt(i);
            }
            else
            {
                uint c = (uint)rng.Next(20);
                summary.Add(c);
                counts.Add(c);
            }

            Assert.Equal(counts.Count, summary.Count);
            Assert.Equal(counts.Count == 0 ? 0u : counts.Max(), summary.Max);
            Assert.Equal(counts.Count == 0 ? 0 : counts.Average(c => (double)c), summary.Mean, 9);
        }
    }

    /// <summary>The index must give a block of the erase count and erased flag the walk's rule selects (which of equals is its own order).</summary>
    private static void Check(FreeBlockIndex index, bool[] free, uint[] ec, bool[] erased, bool mostWorn, uint cap, bool erasedOnly, BlockReservations? skip, int exclude)
    {
        var candidates = Enumerable.Range(0, free.Length)
            .Where(b => free[b] && b != exclude && (skip is null || !skip.Holds(b)) && (!erasedOnly || erased[b]))
            .ToList();
        int got = index.Pick(mostWorn, cap, erasedOnly, skip, exclude);
        if (candidates.Count == 0)
        {
            Assert.Equal(-1, got);
            return;
        }

        Assert.Contains(got, candidates);
        var capped = candidates.Where(b => ec[b] <= cap).ToList();
        uint want = mostWorn && capped.Count > 0 ? capped.Max(b => ec[b]) : candidates.Min(b => ec[b]);
        Assert.Equal(want, ec[got]);
        bool anyErased = candidates.Any(b => ec[b] == want && erased[b]);
        Assert.Equal(anyErased, erased[got]);
    }
}

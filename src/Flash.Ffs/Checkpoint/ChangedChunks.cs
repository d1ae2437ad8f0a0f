using Flash.Ffs.Index;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// A file's chunks whose mapping changed since the base (format 5 entry patches), as sorted disjoint runs; or
/// <see cref="Whole"/> when it changed in a way a patch cannot describe (created, renamed or moved, its map created,
/// dropped or cleared, inline data). RAM proportional to the runs.
/// </summary>
internal sealed class ChangedChunks
{
    private readonly List<(uint First, uint End)> _runs = [];

    /// <summary>The one instance of an entry written whole (shared: no RAM per entry).</summary>
    public static ChangedChunks WholeEntry { get; } = NewWhole();

    /// <summary>Whether the entry must be written whole.</summary>
    public bool Whole { get; private set; }

    /// <summary>The changed runs, ascending and disjoint (empty once <see cref="Whole"/>).</summary>
    public IReadOnlyList<(uint First, uint End)> Runs => _runs;

    /// <summary>RAM held.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference + 1) + RamSize.List(8, _runs.Capacity);

    private static ChangedChunks NewWhole()
    {
        var c = new ChangedChunks();
        c.Whole = true;
        return c;
    }

    /// <summary>Chunks [<paramref name="first"/>, <paramref name="end"/>) changed (merged with the runs it touches).</summary>
    /// <param name="first">The first chunk.</param>
    /// <param name="end">One past the last.</param>
    public void Add(uint first, uint end)
    {
        if (Whole || end <= first)
        {
            return;
        }

        // The first run ending at or after first (runs are disjoint and sorted, so their ends are too).
        int lo = 0, hi = _runs.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_runs[mid].End < first)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        int i = lo, j = lo;
        while (j < _runs.Count && _runs[j].First <= end)
        {
            first = Math.Min(first, _runs[j].First);
            end = Math.Max(end, _runs[j].End);
            j++;
        }

        if (j > i)
        {
            _runs[i] = (first, end);
            _runs.RemoveRange(i + 1, j - i - 1);
        }
        else
        {
            _runs.Insert(i, (first, end));
        }
    }
}

namespace Flash.Ffs.Index;

/// <summary>A run of consecutive file chunks stored in consecutive pages.</summary>
internal struct Extent
{
    public uint Logical;
    public int Page;
    public int Count;

    public Extent(uint logical, int page, int count)
    {
        Logical = logical;
        Page = page;
        Count = count;
    }

    public readonly uint End => Logical + (uint)Count;
}

/// <summary>
/// Maps a file's chunk numbers to physical pages as a sorted list of extents. Sequential writes land in consecutive
/// pages and collapse into one extent, so a 2 MiB file costs 12 bytes of RAM; random overwrites split extents, which
/// is why a flat page table (256 KiB for 128 MiB) is not used.
/// </summary>
internal sealed class ChunkMap
{
    private readonly List<Extent> _extents = [];

    public int ExtentCount => _extents.Count;

    public IReadOnlyList<Extent> Extents => _extents;

    /// <summary>RAM held by the map, for statistics.</summary>
    public long RamBytes => 32 + (_extents.Capacity * 12L);

    public int Get(uint chunk)
    {
        int i = Find(chunk);
        return i >= 0 ? _extents[i].Page + (int)(chunk - _extents[i].Logical) : -1;
    }

    /// <summary>Removes the mapping of <paramref name="chunk"/>; returns the page it had, or -1.</summary>
    public int Remove(uint chunk) => SplitOut(chunk, out _);

    /// <summary>Maps <paramref name="chunk"/> to <paramref name="page"/>; returns the page it replaced, or -1.</summary>
    public int Set(uint chunk, int page)
    {
        int old = SplitOut(chunk, out int i);
        // i is now the insertion index for the single-chunk extent; merge with neighbours where contiguous.
        bool mergeLeft = i > 0 && _extents[i - 1].End == chunk && _extents[i - 1].Page + _extents[i - 1].Count == page;
        bool mergeRight = i < _extents.Count && _extents[i].Logical == chunk + 1 && _extents[i].Page == page + 1;
        if (mergeLeft && mergeRight)
        {
            var l = _extents[i - 1];
            _extents[i - 1] = new Extent(l.Logical, l.Page, l.Count + 1 + _extents[i].Count);
            _extents.RemoveAt(i);
        }
        else if (mergeLeft)
        {
            var l = _extents[i - 1];
            _extents[i - 1] = new Extent(l.Logical, l.Page, l.Count + 1);
        }
        else if (mergeRight)
        {
            var r = _extents[i];
            _extents[i] = new Extent(chunk, page, r.Count + 1);
        }
        else
        {
            _extents.Insert(i, new Extent(chunk, page, 1));
        }

        return old;
    }

    /// <summary>Cuts <paramref name="chunk"/> out of its extent; <paramref name="index"/> is where a new extent for it would go.</summary>
    private int SplitOut(uint chunk, out int index)
    {
        int i = Find(chunk);
        if (i < 0)
        {
            index = ~i;
            return -1;
        }

        var e = _extents[i];
        int at = (int)(chunk - e.Logical);
        int old = e.Page + at;
        if (e.Count == 1)
        {
            _extents.RemoveAt(i);
        }
        else if (at == 0)
        {
            _extents[i] = new Extent(e.Logical + 1, e.Page + 1, e.Count - 1);
        }
        else if (at == e.Count - 1)
        {
            _extents[i] = new Extent(e.Logical, e.Page, e.Count - 1);
            i++;
        }
        else
        {
            _extents[i] = new Extent(e.Logical, e.Page, at);
            _extents.Insert(i + 1, new Extent(chunk + 1, old + 1, e.Count - at - 1));
            i++;
        }

        index = i;
        return old;
    }

    /// <summary>Drops every chunk at or above <paramref name="chunkCount"/>, reporting each dropped page.</summary>
    public void Truncate(uint chunkCount, List<int>? dropped)
    {
        for (int i = _extents.Count - 1; i >= 0; i--)
        {
            var e = _extents[i];
            if (e.End <= chunkCount)
            {
                break;
            }

            int keep = e.Logical >= chunkCount ? 0 : (int)(chunkCount - e.Logical);
            if (dropped is not null)
            {
                for (int k = keep; k < e.Count; k++)
                {
                    dropped.Add(e.Page + k);
                }
            }

            if (keep == 0)
            {
                _extents.RemoveAt(i);
            }
            else
            {
                _extents[i] = new Extent(e.Logical, e.Page, keep);
            }
        }
    }

    public void Add(Extent extent) => _extents.Add(extent);

    public void Clear() => _extents.Clear();

    public IEnumerable<int> Pages()
    {
        foreach (var e in _extents)
        {
            for (int k = 0; k < e.Count; k++)
            {
                yield return e.Page + k;
            }
        }
    }

    private int Find(uint chunk)
    {
        int lo = 0, hi = _extents.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var e = _extents[mid];
            if (chunk < e.Logical)
            {
                hi = mid - 1;
            }
            else if (chunk >= e.End)
            {
                lo = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return ~lo;
    }
}

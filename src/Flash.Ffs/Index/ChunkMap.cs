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
/// Maps a file's chunk numbers to physical pages as a sorted array of extents. Sequential writes land in consecutive
/// pages and collapse into one extent, so a 2 MiB file costs 12 bytes of RAM (plus 56 for the map and its array);
/// random overwrites split extents, which is why a flat page table (256 KiB for 128 MiB) is not used.
/// </summary>
internal sealed class ChunkMap : IReadOnlyList<Extent>
{
    private const int MinCapacity = 4;

    private Extent[] _extents = [];
    private int _count;
    private int _version;

    public int ExtentCount => _count;

    /// <summary>The extents in chunk order (the map itself: enumerating it allocates nothing).</summary>
    public ChunkMap Extents => this;

    public int Count => _count;

    /// <summary>RAM held by the map (this object and its array), for statistics.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference + 4 + 4) + (_extents.Length == 0 ? 0 : RamSize.Array(12, _extents.Length));

    public Extent this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            return _extents[index];
        }
    }

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
        bool mergeRight = i < _count && _extents[i].Logical == chunk + 1 && _extents[i].Page == page + 1;
        if (mergeLeft && mergeRight)
        {
            var l = _extents[i - 1];
            _extents[i - 1] = new Extent(l.Logical, l.Page, l.Count + 1 + _extents[i].Count);
            RemoveAt(i);
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
            Insert(i, new Extent(chunk, page, 1));
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
            RemoveAt(i);
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
            Insert(i + 1, new Extent(chunk + 1, old + 1, e.Count - at - 1));
            i++;
        }

        index = i;
        return old;
    }

    /// <summary>Drops every chunk at or above <paramref name="chunkCount"/>, reporting each dropped page.</summary>
    public void Truncate(uint chunkCount, List<(uint Chunk, int Page)>? dropped)
    {
        for (int i = _count - 1; i >= 0; i--)
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
                    dropped.Add((e.Logical + (uint)k, e.Page + k));
                }
            }

            if (keep == 0)
            {
                RemoveAt(i);
            }
            else
            {
                _extents[i] = new Extent(e.Logical, e.Page, keep);
            }
        }
    }

    public void Add(Extent extent) => Insert(_count, extent);

    /// <summary>Unmaps everything and releases the array.</summary>
    public void Clear()
    {
        _extents = [];
        _count = 0;
        _version++;
    }

    public Enumerator GetEnumerator() => new(this);

    IEnumerator<Extent> IEnumerable<Extent>.GetEnumerator() => GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public IEnumerable<int> Pages()
    {
        for (int i = 0; i < _count; i++)
        {
            var e = _extents[i];
            for (int k = 0; k < e.Count; k++)
            {
                yield return e.Page + k;
            }
        }
    }

    private void Insert(int index, Extent extent)
    {
        if (_count == _extents.Length)
        {
            var grown = new Extent[Math.Max(MinCapacity, _extents.Length * 2)];
            Array.Copy(_extents, grown, _count);
            _extents = grown;
        }

        if (index < _count)
        {
            Array.Copy(_extents, index, _extents, index + 1, _count - index);
        }

        _extents[index] = extent;
        _count++;
        _version++;
    }

    private void RemoveAt(int index)
    {
        _count--;
        if (index < _count)
        {
            Array.Copy(_extents, index + 1, _extents, index, _count - index);
        }

        _version++;
    }

    private int Find(uint chunk)
    {
        int lo = 0, hi = _count - 1;
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

    /// <summary>Walks the extents in order; throws if the map changes meanwhile.</summary>
    public struct Enumerator : IEnumerator<Extent>
    {
        private readonly ChunkMap _map;
        private readonly int _version;
        private int _index;

        internal Enumerator(ChunkMap map)
        {
            _map = map;
            _version = map._version;
            _index = -1;
        }

        public readonly Extent Current => _map._extents[_index];

        readonly object System.Collections.IEnumerator.Current => Current;

        public bool MoveNext()
        {
            if (_version != _map._version)
            {
                throw new InvalidOperationException("The chunk map was modified during enumeration.");
            }

            return ++_index < _map._count;
        }

        public void Reset() => _index = -1;

        public readonly void Dispose()
        {
        }
    }
}

using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Log;

/// <summary>
/// References to inline data in metadata pages. A page's valid bit is its first reference; only pages shared by
/// several small files (a transaction's batch, or garbage collection's packed copies) need an entry in the count
/// table, which keeps RAM per small file down. A page stays live until its last reference is released.
/// </summary>
/// <remarks>
/// It also keeps, per block, how many pages hold inline data and how many references they hold (4 bytes a block):
/// a block of small files written one per page is all live, yet packing its inline data (<see cref="PageRelocator"/>)
/// frees most of it. <see cref="PackGain(int)"/> is what victim choice adds to a block's dead pages.
/// </remarks>
internal sealed class InlinePageRefs : IPackGain
{
    private readonly BlockTable _blocks;
    private readonly int _ppb;
    private readonly int _payload;

    /// <summary>Page to reference count, for pages with two or more references.</summary>
    private readonly Dictionary<int, int> _shared = [];

    /// <summary>Per block: pages holding referenced inline data.</summary>
    private readonly ushort[] _pages;

    /// <summary>Per block: references to inline data in its pages.</summary>
    private readonly ushort[] _refs;

    /// <summary>Inline-move record bytes and records added since mount: the mean record size that gains are estimated with.</summary>
    private long _addedBytes;
    private long _added;

    public InlinePageRefs(BlockTable blocks, int pagesPerBlock, int payload)
    {
        _blocks = blocks;
        _ppb = pagesPerBlock;
        _payload = payload;
        _pages = new ushort[blocks.Count];
        _refs = new ushort[blocks.Count];
    }

    /// <summary>Pages holding inline data, over the whole volume.</summary>
    public long InlinePages { get; private set; }

    /// <summary>RAM held: this object, the count table and the per-block counts.</summary>
    public long RamBytes => RamSize.Object((4 * RamSize.Reference) + (3 * 8) + 8) + RamSize.Dictionary(16, _shared.Capacity) // int -> int
        + (2 * RamSize.Array(2, _pages.Length));

    /// <summary>Counts one more reference, of <paramref name="bytes"/> bytes of inline data, in <paramref name="page"/>.</summary>
    public void Add(int page, long bytes)
    {
        int b = page / _ppb;
        if (!_blocks.IsValid(page))
        {
            _blocks.SetValid(page);
            _pages[b]++;
            InlinePages++;
        }
        else
        {
            _shared[page] = _shared.GetValueOrDefault(page, 1) + 1;
        }

        _refs[b]++;
        _addedBytes += MetaRecord.InlineMoveFixedSize + bytes;
        _added++;
    }

    /// <summary>Drops one reference to inline data in <paramref name="page"/>; the last one makes the page garbage.</summary>
    public void Release(int page)
    {
        int b = page / _ppb;
        if (_refs[b] > 0)
        {
            _refs[b]--;
        }

        if (!_shared.TryGetValue(page, out int n))
        {
            if (_blocks.IsValid(page) && _pages[b] > 0)
            {
                _pages[b]--;
                InlinePages--;
            }

            _blocks.ClearValid(page);
        }
        else if (n <= 2)
        {
            _shared.Remove(page);
        }
        else
        {
            _shared[page] = n - 1;
        }
    }

    /// <summary>Drops every reference left in <paramref name="page"/> (it is being moved or was lost) and makes it garbage.</summary>
    public void Forget(int page)
    {
        if (!_blocks.IsValid(page))
        {
            return;
        }

        int b = page / _ppb;
        int n = ReferencesIn(page);
        _shared.Remove(page);
        int drop = Math.Min(n, (int)_refs[b]);
        _refs[b] -= (ushort)drop;
        if (_pages[b] > 0)
        {
            _pages[b]--;
            InlinePages--;
        }

        _blocks.ClearValid(page);
    }

    /// <summary>References to inline data in <paramref name="page"/> (0 when none).</summary>
    public int ReferencesIn(int page) => _shared.TryGetValue(page, out int n) ? n : _blocks.IsValid(page) ? 1 : 0;

    /// <summary>Pages holding inline data in <paramref name="block"/>.</summary>
    public int InlinePagesIn(int block) => _pages[block];

    /// <summary>
    /// Pages packing <paramref name="block"/>'s inline data would free: its inline pages less the pages their records
    /// fill when packed (records of the mean size seen since mount). 0 for a block already packed.
    /// </summary>
    public int PackGain(int block) => Gain(_pages[block], _refs[block]);

    /// <summary>
    /// Pages packing would free in the blocks victim choice moves for it (a gain of at least
    /// <paramref name="minGain"/>): a walk over the per-block counts, for when space is short.
    /// </summary>
    public long ReachablePackGain(int minGain)
    {
        long sum = 0;
        for (int b = 0; b < _pages.Length; b++)
        {
            int g = Gain(_pages[b], _refs[b]);
            sum += g >= minGain ? g : 0;
        }

        return sum;
    }

    /// <summary>Pages of <paramref name="pages"/> freed by packing <paramref name="refs"/> records of the mean size, whole records to a page.</summary>
    private int Gain(long pages, long refs)
    {
        if (pages == 0 || _added == 0)
        {
            return 0;
        }

        long mean = Math.Max(1, _addedBytes / _added);
        long perPage = Math.Max(1, _payload / mean);
        long packed = (refs + perPage - 1) / perPage;
        return (int)Math.Max(0, pages - packed);
    }

    /// <summary>Forgets every count (recovery rebuilds them from the index).</summary>
    public void Clear()
    {
        _shared.Clear();
        Array.Clear(_pages);
        Array.Clear(_refs);
        InlinePages = 0;
    }
}

using Flash.Ffs.Index;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Log;

/// <summary>
/// References to inline data in metadata pages. A page's valid bit is its first reference; only pages shared by
/// several small files (a transaction's batch) need an entry in the count table, which keeps RAM per small file down.
/// A page stays live until its last reference is released.
/// </summary>
internal sealed class InlinePageRefs
{
    private readonly BlockTable _blocks;

    /// <summary>Page to reference count, for pages with two or more references.</summary>
    private readonly Dictionary<int, int> _shared = [];

    public InlinePageRefs(BlockTable blocks) => _blocks = blocks;

    /// <summary>RAM held: this object and the count table.</summary>
    public long RamBytes => RamSize.Object(2 * RamSize.Reference) + RamSize.Dictionary(16, _shared.Capacity); // int -> int

    /// <summary>Counts one more reference to inline data in <paramref name="page"/>.</summary>
    public void Add(int page)
    {
        if (!_blocks.IsValid(page))
        {
            _blocks.SetValid(page);
        }
        else
        {
            _shared[page] = _shared.GetValueOrDefault(page, 1) + 1;
        }
    }

    /// <summary>Drops one reference to inline data in <paramref name="page"/>; the last one makes the page garbage.</summary>
    public void Release(int page)
    {
        if (!_shared.TryGetValue(page, out int n))
        {
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

    /// <summary>Forgets every count (recovery rebuilds them from the index).</summary>
    public void Clear() => _shared.Clear();
}

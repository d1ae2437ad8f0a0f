using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Flash.Ffs.Index;

/// <summary>
/// Every entry of the volume by id, stored as records rather than objects: pages of 64 consecutive ids
/// (<see cref="NodePage"/>) in a key-sorted directory searched by bisection, so a lookup is O(log n) and a small file
/// costs its 28-byte record, its name bytes and its 4 bytes in its directory's <see cref="ChildList"/>. Chunk maps and
/// child lists hang off a shared slot array; sizes above 32 bits go to an overflow map.
/// </summary>
/// <remarks>
/// Callers see entries as <see cref="Node"/> views made on demand (a small direct-mapped cache keeps the views of the
/// entries in use, so steady-state lookups allocate nothing). A view reads and writes the record; a view of a removed
/// entry keeps a copy of it (the one removed and the cached one), any other throws when used.
/// </remarks>
internal sealed class NodeTable : IReadOnlyCollection<Node>
{
    /// <summary>Most views cached: the cache grows with the table (a power of two at least the entry count) up to this.</summary>
    private const int MaxCache = 256;

    private Node?[] _cache = new Node?[8];
    private readonly Dictionary<uint, long> _bigSizes = [];
    private readonly List<int> _freeExt = [];
    private uint[] _keys = [];
    private NodePage[] _pages = [];
    private int _pageCount;
    private object?[] _ext = [];
    private int _extCount;
    private int _count;
    private int _version;
    private int _lastPage;
    private Node? _duplicate;

    /// <summary>The nodes, in id order (the table itself, so the call sites read like a dictionary's).</summary>
    public NodeTable Values => this;

    /// <summary>Entries held.</summary>
    public int Count => _count;

    /// <summary>Pages allocated (each holds up to 64 consecutive ids).</summary>
    public int PageCount => _pageCount;

    /// <summary>RAM held: this object, the page directory, every page, the extension slots with the chunk maps and child lists they hold, the overflow sizes and the view cache.</summary>
    public long RamBytes
    {
        get
        {
            long bytes = RamSize.Object((7 * RamSize.Reference) + (6 * 4)) + RamSize.Array(RamSize.Reference, _cache.Length)
                + RamSize.Array(4, _keys.Length) + RamSize.Array(RamSize.Reference, _pages.Length)
                + RamSize.Array(RamSize.Reference, _ext.Length) + RamSize.List(4, _freeExt.Capacity) + RamSize.Dictionary(24, _bigSizes.Capacity);
            for (int i = 0; i < _pageCount; i++)
            {
                bytes += _pages[i].RamBytes;
            }

            foreach (var view in _cache)
            {
                bytes += view is null ? 0 : Node.ViewBytes;
            }

            for (int i = 0; i < _extCount; i++)
            {
                bytes += _ext[i] switch
                {
                    ChunkMap m => m.RamBytes,
                    ChildList c => c.RamBytes,
                    _ => 0,
                };
            }

            return bytes;
        }
    }

    /// <summary>The node with an id.</summary>
    /// <param name="id">The id.</param>
    /// <exception cref="KeyNotFoundException">No node has it.</exception>
    public Node this[uint id] => TryGetValue(id, out var node) ? node : throw new KeyNotFoundException($"No entry has id {id}.");

    /// <summary>Finds a node by id.</summary>
    /// <param name="id">The id.</param>
    /// <param name="node">The node, when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGetValue(uint id, [MaybeNullWhen(false)] out Node node)
    {
        node = ContainsKey(id) ? View(id) : null;
        return node is not null;
    }

    /// <summary>The absolute path of an entry, from the names of its ancestors (for listings and messages).</summary>
    /// <param name="node">The entry.</param>
    /// <returns>Its path; "/" for the root.</returns>
    public string PathOf(Node node)
    {
        if (node.Id == IdCounters.RootId)
        {
            return "/";
        }

        var parts = new Stack<string>();
        for (var n = node; n.Id != IdCounters.RootId && TryGetValue(n.ParentId, out var p); n = p)
        {
            parts.Push(n.Name);
        }

        return "/" + string.Join('/', parts);
    }

    /// <summary>Whether a node has an id.</summary>
    /// <param name="id">The id.</param>
    /// <returns>True when one has.</returns>
    public bool ContainsKey(uint id) => Locate(id, out _, out _);

    /// <summary>Adds a node (its data is copied into the table and the node becomes a view of it); false when its id is taken.</summary>
    /// <param name="node">The node.</param>
    /// <returns>Whether it was added.</returns>
    public bool TryAdd(Node node) => TryAdd(node, loading: false);

    private bool TryAdd(Node node, bool loading)
    {
        uint id = node.Id;
        if (ContainsKey(id))
        {
            return false;
        }

        var record = new NodeRecord
        {
            ParentId = node.ParentId,
            Sequence = node.ModificationSequence,
            InlinePage = node.InlinePage,
            InlineOffset = (ushort)node.InlineOffset,
            Flags = node.IsDirectory ? NodeRecord.DirectoryFlag : (byte)0,
        };
        long size = node.Size;
        object? ext = (object?)node.Children ?? node.Chunks;
        int p = PageFor(id >> NodePage.Shift);
        _pages[p].Insert((int)(id & (NodePage.Size - 1)), record, node.NameUtf8, spare: loading);
        _count++;
        _version++;
        SetSize(id, size);
        SetExt(id, ext);
        node.Attach(this);
        (ext as ChildList)?.Bind(this);
        if (_count > _cache.Length && _cache.Length < MaxCache)
        {
            GrowCache();
        }

        _cache[(int)(id & (uint)(_cache.Length - 1))] = node;
        return true;
    }

    /// <summary>Adds a node whose id is not in the table.</summary>
    /// <param name="node">The node.</param>
    /// <exception cref="ArgumentException">The id is taken.</exception>
    public void Add(Node node)
    {
        if (!TryAdd(node))
        {
            throw new ArgumentException($"An entry with id {node.Id} exists.", nameof(node));
        }
    }

    /// <summary>Removes the node with an id; its cached view keeps a copy of it.</summary>
    /// <param name="id">The id.</param>
    /// <returns>Whether one was removed.</returns>
    public bool Remove(uint id) => Remove(id, null);

    /// <summary>Removes a node; <paramref name="node"/> (and the cached view) keep a copy of it.</summary>
    /// <param name="node">The node.</param>
    /// <returns>Whether it was removed.</returns>
    public bool Remove(Node node) => Remove(node.Id, node);

    /// <summary>The node with the smallest id above <paramref name="id"/>, or null.</summary>
    /// <param name="id">The id to start after.</param>
    /// <returns>The node, or null when none has a larger id.</returns>
    public Node? FirstAfter(uint id)
    {
        if (id == uint.MaxValue)
        {
            return null;
        }

        uint next = id + 1;
        int p = FindPage(next >> NodePage.Shift);
        if (p < 0)
        {
            p = ~p;
        }

        for (; p < _pageCount; p++)
        {
            var page = _pages[p];
            ulong bits = page.Bits;
            if (page.Key == next >> NodePage.Shift)
            {
                bits &= ~0UL << (int)(next & (NodePage.Size - 1));
            }

            if (bits != 0)
            {
                return View((page.Key << NodePage.Shift) | (uint)BitOperations.TrailingZeroCount(bits));
            }
        }

        return null;
    }

    /// <summary>A copy of the nodes, in order (for changing the table while walking it).</summary>
    /// <returns>The copy.</returns>
    public Node[] ToArray()
    {
        var all = new Node[_count];
        int i = 0;
        foreach (var n in this)
        {
            all[i++] = n;
        }

        return all;
    }

    /// <summary>Removes every node and releases the pages.</summary>
    public void Clear()
    {
        foreach (var n in ToArray())
        {
            Remove(n);
        }

        _keys = [];
        _pages = [];
        _ext = [];
        _extCount = 0;
        _freeExt.Clear();
        _bigSizes.Clear();
    }

    /// <summary>Adds a node while loading (ids in any order); a duplicate id is kept for <see cref="Seal"/> to report.</summary>
    /// <param name="node">The node.</param>
    public void AppendUnordered(Node node)
    {
        if (!TryAdd(node, loading: true))
        {
            _duplicate ??= node;
        }
    }

    /// <summary>Ends loading: returns a node whose id was appended twice, or null.</summary>
    /// <returns>A duplicate, or null when every id is unique.</returns>
    public Node? Seal()
    {
        // Loading left room for appends in the pages' name runs; a loaded table holds what a built one does.
        for (int i = 0; i < _pageCount; i++)
        {
            _pages[i].Trim();
        }

        var d = _duplicate;
        _duplicate = null;
        return d;
    }

    /// <summary>Enumerates the nodes in id order; changing the table meanwhile throws.</summary>
    /// <returns>The enumerator.</returns>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<Node> IEnumerable<Node>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The record of an id (valid until the table next changes).</summary>
    /// <exception cref="KeyNotFoundException">No entry has it: the view outlived its entry.</exception>
    internal ref NodeRecord Record(uint id) => ref Existing(id, out int rank).Records[rank];

    internal ReadOnlySpan<byte> NameOf(uint id) => Existing(id, out int rank).NameAt(rank);

    /// <summary>
    /// An entry's UTF-8 name as memory: its page replaces the name run rather than changing the bytes in use, so the
    /// memory keeps reading this name after the table changes (a sort key that is looked up once).
    /// </summary>
    internal ReadOnlyMemory<byte> NameMemoryOf(uint id)
    {
        var page = Existing(id, out int rank);
        return page.Names.AsMemory(page.NameStart(rank), page.Records[rank].NameLength);
    }

    internal void Rename(uint id, ReadOnlySpan<byte> utf8) => Existing(id, out int rank).Rename(rank, utf8);

    internal long SizeOf(uint id)
    {
        ref var r = ref Record(id);
        return (r.Flags & NodeRecord.BigSizeFlag) != 0 ? _bigSizes[id] : r.SizeLow;
    }

    internal void SetSize(uint id, long size)
    {
        ref var r = ref Record(id);
        if (size is >= 0 and <= uint.MaxValue)
        {
            r.SizeLow = (uint)size;
            if ((r.Flags & NodeRecord.BigSizeFlag) != 0)
            {
                r.Flags &= unchecked((byte)~NodeRecord.BigSizeFlag);
                _bigSizes.Remove(id);
            }
        }
        else
        {
            r.Flags |= NodeRecord.BigSizeFlag;
            _bigSizes[id] = size;
        }
    }

    internal object? ExtOf(uint id)
    {
        int ext = Record(id).Ext;
        return ext == 0 ? null : _ext[ext - 1];
    }

    internal void SetExt(uint id, object? value)
    {
        ref var r = ref Record(id);
        if (r.Ext != 0)
        {
            if (value is not null)
            {
                _ext[r.Ext - 1] = value;
                return;
            }

            _ext[r.Ext - 1] = null;
            _freeExt.Add(r.Ext - 1);
            r.Ext = 0;
        }
        else if (value is not null)
        {
            int slot;
            if (_freeExt.Count > 0)
            {
                slot = _freeExt[^1];
                _freeExt.RemoveAt(_freeExt.Count - 1);
            }
            else
            {
                if (_extCount == _ext.Length)
                {
                    System.Array.Resize(ref _ext, Math.Max(4, _ext.Length * 2));
                }

                slot = _extCount++;
            }

            _ext[slot] = value;
            r.Ext = slot + 1;
        }
    }

    /// <summary>The view of an existing id: the cached one, or a new one that replaces it in the cache.</summary>
    internal Node View(uint id)
    {
        ref var cached = ref _cache[(int)(id & (uint)(_cache.Length - 1))];
        if (cached is { } c && c.Id == id && c.IsViewOf(this))
        {
            return c;
        }

        cached = new Node(this, id);
        return cached;
    }

    /// <summary>Doubles the view cache, keeping the views it holds.</summary>
    private void GrowCache()
    {
        var grown = new Node?[_cache.Length * 2];
        foreach (var view in _cache)
        {
            if (view is not null)
            {
                grown[(int)(view.Id & (uint)(grown.Length - 1))] = view;
            }
        }

        _cache = grown;
    }

    private bool Remove(uint id, Node? node)
    {
        if (!ContainsKey(id))
        {
            return false;
        }

        ref var cached = ref _cache[(int)(id & (uint)(_cache.Length - 1))];
        if (cached is { } c && c.Id == id && c.IsViewOf(this))
        {
            c.Detach();
        }

        cached = null;
        if (node is not null && node.IsViewOf(this))
        {
            node.Detach();
        }

        SetExt(id, null);
        SetSize(id, 0);
        int p = FindPage(id >> NodePage.Shift);
        var page = _pages[p];
        page.Delete((int)(id & (NodePage.Size - 1)));
        if (page.Bits == 0)
        {
            _pageCount--;
            System.Array.Copy(_keys, p + 1, _keys, p, _pageCount - p);
            System.Array.Copy(_pages, p + 1, _pages, p, _pageCount - p);
            _pages[_pageCount] = null!;
            _lastPage = 0;
        }

        _count--;
        _version++;
        return true;
    }

    private NodePage Existing(uint id, out int rank)
        => Locate(id, out var page, out rank) ? page : throw new KeyNotFoundException($"Entry {id} is no longer in the table.");

    private bool Locate(uint id, [MaybeNullWhen(false)] out NodePage page, out int rank)
    {
        int p = FindPage(id >> NodePage.Shift);
        if (p < 0)
        {
            page = null;
            rank = -1;
            return false;
        }

        page = _pages[p];
        rank = page.RankOf((int)(id & (NodePage.Size - 1)));
        return rank >= 0;
    }

    /// <summary>The index of the page with a key, or the bitwise complement of where it would go.</summary>
    private int FindPage(uint key)
    {
        // Most lookups hit the page of the last one (sequential ids, a directory's recent entries).
        int last = _lastPage;
        if (last < _pageCount && _keys[last] == key)
        {
            return last;
        }

        if (_pageCount > 0 && _keys[_pageCount - 1] < key)
        {
            return ~_pageCount;
        }

        int i = System.Array.BinarySearch(_keys, 0, _pageCount, key);
        if (i >= 0)
        {
            _lastPage = i;
        }

        return i;
    }

    /// <summary>The index of the page with a key, creating it if needed.</summary>
    private int PageFor(uint key)
    {
        int p = FindPage(key);
        if (p >= 0)
        {
            return p;
        }

        p = ~p;
        if (_pageCount == _pages.Length)
        {
            int grown = Math.Max(4, _pages.Length * 2);
            System.Array.Resize(ref _pages, grown);
            System.Array.Resize(ref _keys, grown);
        }

        System.Array.Copy(_keys, p, _keys, p + 1, _pageCount - p);
        System.Array.Copy(_pages, p, _pages, p + 1, _pageCount - p);
        _keys[p] = key;
        _pages[p] = new NodePage(key);
        _pageCount++;
        _lastPage = p;
        return p;
    }

    /// <summary>Walks the nodes in id order; throws if the table changes meanwhile.</summary>
    public struct Enumerator : IEnumerator<Node>
    {
        private readonly NodeTable _table;
        private readonly int _version;
        private int _page;
        private ulong _bits;
        private Node? _current;

        internal Enumerator(NodeTable table)
        {
            _table = table;
            _version = table._version;
            _page = -1;
            _bits = 0;
            _current = null;
        }

        /// <inheritdoc/>
        public readonly Node Current => _current!;

        readonly object IEnumerator.Current => Current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            if (_version != _table._version)
            {
                throw new InvalidOperationException("The collection was modified during enumeration.");
            }

            while (_bits == 0)
            {
                if (++_page >= _table._pageCount)
                {
                    _current = null;
                    return false;
                }

                _bits = _table._pages[_page].Bits;
            }

            int bit = BitOperations.TrailingZeroCount(_bits);
            _bits &= _bits - 1;
            _current = _table.View((_table._pages[_page].Key << NodePage.Shift) | (uint)bit);
            return true;
        }

        /// <inheritdoc/>
        public void Reset()
        {
            _page = -1;
            _bits = 0;
        }

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }
    }
}

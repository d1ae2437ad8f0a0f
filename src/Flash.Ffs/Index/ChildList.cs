using System.Buffers;
using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Flash.Ffs.Index;

/// <summary>
/// The entries of one directory: their ids, sorted by their UTF-8 names (bytewise, which is code-point order) and
/// found by bisection over the names in the <see cref="NodeTable"/>: 4 bytes an entry, and names are compared as
/// stored, without strings. Entries must be in the table before they are listed.
/// </summary>
internal sealed class ChildList : IReadOnlyCollection<Node>
{
    private const int MinCapacity = 4;

    private NodeTable? _table;
    private uint[] _ids = [];
    private int _count;
    private int _version;
    private bool _unsorted;

    /// <summary>Entries listed.</summary>
    public int Count => _count;

    /// <summary>Slots allocated.</summary>
    public int Capacity => _ids.Length;

    /// <summary>RAM held: this object (table and array references, count, version, one flag) and the id array.</summary>
    public long RamBytes => RamSize.Object((2 * RamSize.Reference) + 4 + 4 + 1) + (_ids.Length == 0 ? 0 : RamSize.Array(4, _ids.Length));

    private NodeTable Table => _table ?? throw new InvalidOperationException("The directory is not in a table yet.");

    /// <summary>Finds an entry by name.</summary>
    /// <param name="name">The UTF-8 name.</param>
    /// <returns>The entry, or null.</returns>
    public Node? Find(ReadOnlySpan<byte> name)
    {
        int i = IndexOf(name);
        return i >= 0 ? Table.View(_ids[i]) : null;
    }

    /// <summary>Finds an entry by name.</summary>
    /// <param name="name">The UTF-8 name.</param>
    /// <param name="node">The entry, when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGetValue(ReadOnlySpan<byte> name, [MaybeNullWhen(false)] out Node node)
    {
        node = Find(name);
        return node is not null;
    }

    /// <summary>Finds an entry by name (encoded to UTF-8 on the stack).</summary>
    /// <param name="name">The name.</param>
    /// <param name="node">The entry, when found.</param>
    /// <returns>Whether it was found.</returns>
    public bool TryGetValue(string name, [MaybeNullWhen(false)] out Node node)
    {
        int max = Encoding.UTF8.GetMaxByteCount(name.Length);
        Span<byte> buffer = max <= 1024 ? stackalloc byte[max] : new byte[max];
        int length = Encoding.UTF8.GetBytes(name, buffer);
        return TryGetValue(buffer[..length], out node);
    }

    /// <summary>Whether an entry has a name.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when one has.</returns>
    public bool Contains(string name) => TryGetValue(name, out _);

    /// <summary>Adds an entry; false when its name is taken.</summary>
    /// <param name="child">The entry (in the table).</param>
    /// <returns>Whether it was added.</returns>
    public bool TryAdd(Node child)
    {
        int i = IndexOf(child.NameUtf8);
        if (i >= 0)
        {
            return false;
        }

        InsertAt(~i, child.Id);
        return true;
    }

    /// <summary>Adds an entry, replacing any other of the same name.</summary>
    /// <param name="child">The entry (in the table).</param>
    public void Set(Node child)
    {
        int i = IndexOf(child.NameUtf8);
        if (i >= 0)
        {
            _ids[i] = child.Id;
            _version++;
        }
        else
        {
            InsertAt(~i, child.Id);
        }
    }

    /// <summary>Removes an entry if it is the one listed under its name.</summary>
    /// <param name="child">The entry.</param>
    /// <returns>Whether it was removed.</returns>
    public bool Remove(Node child)
    {
        int i = IndexOf(child.NameUtf8);
        if (i < 0 || _ids[i] != child.Id)
        {
            return false;
        }

        RemoveAt(i);
        return true;
    }

    /// <summary>Appends an entry without keeping the order (bulk loading); call <see cref="Seal"/> before any lookup.</summary>
    /// <param name="child">The entry (in the table).</param>
    /// <remarks>Nothing is compared here: <see cref="Seal"/> reads every name once and checks the order then.</remarks>
    public void AppendUnordered(Node child)
    {
        InsertAt(_count, child.Id);
        _unsorted = true;
    }

    /// <summary>Restores the order after <see cref="AppendUnordered"/>; returns the first of two entries with equal names, or null.</summary>
    /// <returns>A duplicate, or null when every name is unique.</returns>
    /// <remarks>
    /// Each name is looked up in the table once, into a pooled array of sort keys that lives only for this call (a
    /// comparison through the table finds the entry's page and walks its records, twice per comparison: most of the
    /// CPU a mount spent on directories of a thousand files). Keys sorted already, as checkpoints list them, are not sorted again.
    /// </remarks>
    public Node? Seal()
    {
        if (!_unsorted)
        {
            return null;
        }

        var table = Table;
        var keys = ArrayPool<ReadOnlyMemory<byte>>.Shared.Rent(_count);
        try
        {
            bool ordered = true;
            for (int i = 0; i < _count; i++)
            {
                keys[i] = table.NameMemoryOf(_ids[i]);
                ordered &= i == 0 || keys[i - 1].Span.SequenceCompareTo(keys[i].Span) <= 0;
            }

            if (!ordered)
            {
                System.Array.Sort(keys, _ids, 0, _count, NameOrder.Instance);
            }

            _unsorted = false;
            _version++;
            for (int i = 1; i < _count; i++)
            {
                if (keys[i - 1].Span.SequenceEqual(keys[i].Span))
                {
                    return table.View(_ids[i]);
                }
            }

            return null;
        }
        finally
        {
            keys.AsSpan(0, _count).Clear();
            ArrayPool<ReadOnlyMemory<byte>>.Shared.Return(keys);
        }
    }

    /// <summary>A copy of the entries, in order (for changing the directory while walking it).</summary>
    /// <returns>The copy.</returns>
    public Node[] ToArray()
    {
        var all = new Node[_count];
        for (int i = 0; i < _count; i++)
        {
            all[i] = Table.View(_ids[i]);
        }

        return all;
    }

    /// <summary>Enumerates the entries in order; changing the list meanwhile throws.</summary>
    /// <returns>The enumerator.</returns>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<Node> IEnumerable<Node>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Ties the list to the table its directory (and so its entries) are in.</summary>
    /// <param name="table">The table.</param>
    internal void Bind(NodeTable table)
    {
        if (_table is not null && _table != table && _count > 0)
        {
            throw new InvalidOperationException("The directory's entries are in another table.");
        }

        _table = table;
    }

    private void InsertAt(int index, uint id)
    {
        _ = Table;
        if (_count == _ids.Length)
        {
            var grown = new uint[Math.Max(MinCapacity, _ids.Length * 2)];
            System.Array.Copy(_ids, grown, _count);
            _ids = grown;
        }

        if (index < _count)
        {
            System.Array.Copy(_ids, index, _ids, index + 1, _count - index);
        }

        _ids[index] = id;
        _count++;
        _version++;
    }

    /// <summary>Removes the entry at a position; the array halves when it falls to a quarter full and goes when empty.</summary>
    private void RemoveAt(int index)
    {
        _count--;
        if (index < _count)
        {
            System.Array.Copy(_ids, index + 1, _ids, index, _count - index);
        }

        _version++;
        if (_count == 0 || (_ids.Length > MinCapacity && _count <= _ids.Length / 4))
        {
            var shrunk = _count == 0 ? [] : new uint[Math.Max(MinCapacity, _ids.Length / 2)];
            System.Array.Copy(_ids, shrunk, _count);
            _ids = shrunk;
        }
    }

    /// <summary>The position of <paramref name="name"/>, or the bitwise complement of where it would go.</summary>
    private int IndexOf(ReadOnlySpan<byte> name)
    {
        if (_unsorted)
        {
            throw new InvalidOperationException("The directory is being loaded; seal it before looking up.");
        }

        if (_count == 0)
        {
            return ~0;
        }

        var table = Table;
        if (table.NameOf(_ids[_count - 1]).SequenceCompareTo(name) < 0)
        {
            return ~_count;
        }

        int lo = 0, hi = _count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = table.NameOf(_ids[mid]).SequenceCompareTo(name);
            if (c == 0)
            {
                return mid;
            }

            if (c < 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return ~lo;
    }

    /// <summary>Bytewise order of UTF-8 names held as memory.</summary>
    private sealed class NameOrder : IComparer<ReadOnlyMemory<byte>>
    {
        public static readonly NameOrder Instance = new();

        public int Compare(ReadOnlyMemory<byte> x, ReadOnlyMemory<byte> y) => x.Span.SequenceCompareTo(y.Span);
    }

    /// <summary>Walks the entries in order; throws if the list changes meanwhile.</summary>
    public struct Enumerator : IEnumerator<Node>
    {
        private readonly ChildList _list;
        private readonly int _version;
        private int _index;

        internal Enumerator(ChildList list)
        {
            _list = list;
            _version = list._version;
            _index = -1;
        }

        /// <inheritdoc/>
        public readonly Node Current => _list.Table.View(_list._ids[_index]);

        readonly object IEnumerator.Current => Current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            if (_version != _list._version)
            {
                throw new InvalidOperationException("The collection was modified during enumeration.");
            }

            return ++_index < _list._count;
        }

        /// <inheritdoc/>
        public void Reset() => _index = -1;

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }
    }
}

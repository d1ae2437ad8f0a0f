using System.Collections;

namespace Flash.Ffs.Index;

/// <summary>
/// A sorted array of node references: 8 bytes a node plus the unused capacity, instead of a hash-table entry. The
/// subclasses define the order (<see cref="NodeTable"/> by id, <see cref="ChildList"/> by name) and search it by
/// bisection; inserts and removals shift the tail, which appends (increasing ids, names created in order) avoid.
/// </summary>
internal abstract class NodeArray : IReadOnlyCollection<Node>
{
    private const int MinCapacity = 4;

    private Node[] _items = [];
    private int _count;
    private int _version;

    /// <summary>Nodes held.</summary>
    public int Count => _count;

    /// <summary>Slots allocated.</summary>
    public int Capacity => _items.Length;

    /// <summary>RAM held: this object (array reference, count, version, one flag) and the array.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference + 4 + 4 + 4) + (_items.Length == 0 ? 0 : RamSize.Array(RamSize.Reference, _items.Length));

    /// <summary>Whether nodes were appended out of order since the last <see cref="Seal"/> (lookups are then invalid).</summary>
    protected bool Unsorted { get; private set; }

    /// <summary>Enumerates the nodes in order without allocating; changing the array meanwhile throws.</summary>
    /// <returns>The enumerator.</returns>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<Node> IEnumerable<Node>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A copy of the nodes, in order (for changing the array while walking it).</summary>
    /// <returns>The copy.</returns>
    public Node[] ToArray() => _items.AsSpan(0, _count).ToArray();

    /// <summary>Removes every node and releases the array.</summary>
    public void Clear()
    {
        _items = [];
        _count = 0;
        Unsorted = false;
        _version++;
    }

    /// <summary>Appends a node without keeping the order (bulk loading); call <see cref="Seal"/> before any lookup.</summary>
    /// <param name="node">The node.</param>
    public void AppendUnordered(Node node)
    {
        if (_count > 0 && !Unsorted && Compare(_items[_count - 1], node) >= 0)
        {
            Unsorted = true;
        }

        InsertAt(_count, node);
    }

    /// <summary>Restores the order after <see cref="AppendUnordered"/>; returns the first of two nodes with equal keys, or null.</summary>
    /// <returns>A duplicate, or null when every key is unique.</returns>
    public Node? Seal()
    {
        if (Unsorted)
        {
            System.Array.Sort(_items, 0, _count, Comparer<Node>.Create(Compare));
            Unsorted = false;
            _version++;
        }

        for (int i = 1; i < _count; i++)
        {
            if (Compare(_items[i - 1], _items[i]) == 0)
            {
                return _items[i];
            }
        }

        return null;
    }

    /// <summary>The order: negative when <paramref name="a"/> comes first, 0 for equal keys.</summary>
    /// <param name="a">A node.</param>
    /// <param name="b">Another node.</param>
    /// <returns>The comparison.</returns>
    protected abstract int Compare(Node a, Node b);

    /// <summary>The backing slots (the first <see cref="Count"/> are used) for subclasses' searches.</summary>
    /// <returns>The used slots.</returns>
    protected ReadOnlySpan<Node> Items() => _items.AsSpan(0, _count);

    /// <summary>Inserts a node at a position of the order.</summary>
    /// <param name="index">Position, 0 to <see cref="Count"/>.</param>
    /// <param name="node">The node.</param>
    protected void InsertAt(int index, Node node)
    {
        if (_count == _items.Length)
        {
            var grown = new Node[Math.Max(MinCapacity, _items.Length * 2)];
            System.Array.Copy(_items, grown, _count);
            _items = grown;
        }

        if (index < _count)
        {
            System.Array.Copy(_items, index, _items, index + 1, _count - index);
        }

        _items[index] = node;
        _count++;
        _version++;
    }

    /// <summary>Replaces the node at a position (same key).</summary>
    /// <param name="index">Position.</param>
    /// <param name="node">The new node.</param>
    protected void ReplaceAt(int index, Node node)
    {
        _items[index] = node;
        _version++;
    }

    /// <summary>Removes the node at a position; the array halves when it falls to a quarter full and goes when empty.</summary>
    /// <param name="index">Position.</param>
    protected void RemoveAt(int index)
    {
        _count--;
        if (index < _count)
        {
            System.Array.Copy(_items, index + 1, _items, index, _count - index);
        }

        _items[_count] = null!;
        _version++;
        if (_count == 0 || (_items.Length > MinCapacity && _count <= _items.Length / 4))
        {
            var shrunk = _count == 0 ? [] : new Node[Math.Max(MinCapacity, _items.Length / 2)];
            System.Array.Copy(_items, shrunk, _count);
            _items = shrunk;
        }
    }

    /// <summary>Walks the nodes in order; throws if the array changes meanwhile.</summary>
    public struct Enumerator : IEnumerator<Node>
    {
        private readonly NodeArray _array;
        private readonly int _version;
        private int _index;

        internal Enumerator(NodeArray array)
        {
            _array = array;
            _version = array._version;
            _index = -1;
        }

        /// <inheritdoc/>
        public readonly Node Current => _array._items[_index];

        readonly object IEnumerator.Current => Current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            if (_version != _array._version)
            {
                throw new InvalidOperationException("The collection was modified during enumeration.");
            }

            return ++_index < _array._count;
        }

        /// <inheritdoc/>
        public void Reset() => _index = -1;

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }
    }
}

using System.Diagnostics.CodeAnalysis;

namespace Flash.Ffs.Index;

/// <summary>
/// Every node of the volume by id: a sorted array searched by bisection. Ids are handed out in increasing order, so
/// a new entry is an append; a removal shifts the tail (a memory move of 8 bytes a later entry).
/// </summary>
internal sealed class NodeTable : NodeArray
{
    /// <summary>The nodes, in id order (the table itself, so the call sites read like a dictionary's).</summary>
    public NodeTable Values => this;

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
        int i = IndexOf(id);
        node = i >= 0 ? Items()[i] : null;
        return i >= 0;
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
    public bool ContainsKey(uint id) => IndexOf(id) >= 0;

    /// <summary>Adds a node; false when its id is taken.</summary>
    /// <param name="node">The node.</param>
    /// <returns>Whether it was added.</returns>
    public bool TryAdd(Node node)
    {
        int i = IndexOf(node.Id);
        if (i >= 0)
        {
            return false;
        }

        InsertAt(~i, node);
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

    /// <summary>Removes the node with an id.</summary>
    /// <param name="id">The id.</param>
    /// <returns>Whether one was removed.</returns>
    public bool Remove(uint id)
    {
        int i = IndexOf(id);
        if (i < 0)
        {
            return false;
        }

        RemoveAt(i);
        return true;
    }

    /// <summary>The node with the smallest id above <paramref name="id"/>, or null.</summary>
    /// <param name="id">The id to start after.</param>
    /// <returns>The node, or null when none has a larger id.</returns>
    public Node? FirstAfter(uint id)
    {
        if (id == uint.MaxValue)
        {
            return null;
        }

        int i = IndexOf(id + 1);
        if (i < 0)
        {
            i = ~i;
        }

        return i < Count ? Items()[i] : null;
    }

    /// <inheritdoc/>
    protected override int Compare(Node a, Node b) => a.Id.CompareTo(b.Id);

    /// <summary>The position of <paramref name="id"/>, or the bitwise complement of where it would go.</summary>
    private int IndexOf(uint id)
    {
        if (Unsorted)
        {
            throw new InvalidOperationException("The table is being loaded; seal it before looking up.");
        }

        var items = Items();
        if (items.Length > 0 && items[^1].Id < id)
        {
            return ~items.Length;
        }

        int lo = 0, hi = items.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            uint key = items[mid].Id;
            if (key == id)
            {
                return mid;
            }

            if (key < id)
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
}

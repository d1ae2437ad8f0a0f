using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Flash.Ffs.Index;

/// <summary>
/// The entries of one directory, sorted by their UTF-8 names (bytewise, which is code-point order) and found by
/// bisection: 8 bytes an entry instead of a hash-table entry, and names are compared as stored, without strings.
/// </summary>
internal sealed class ChildList : NodeArray
{
    /// <summary>Finds an entry by name.</summary>
    /// <param name="name">The UTF-8 name.</param>
    /// <returns>The entry, or null.</returns>
    public Node? Find(ReadOnlySpan<byte> name)
    {
        int i = IndexOf(name);
        return i >= 0 ? Items()[i] : null;
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
    /// <param name="child">The entry.</param>
    /// <returns>Whether it was added.</returns>
    public bool TryAdd(Node child)
    {
        int i = IndexOf(child.NameUtf8);
        if (i >= 0)
        {
            return false;
        }

        InsertAt(~i, child);
        return true;
    }

    /// <summary>Adds an entry, replacing any other of the same name.</summary>
    /// <param name="child">The entry.</param>
    public void Set(Node child)
    {
        int i = IndexOf(child.NameUtf8);
        if (i >= 0)
        {
            ReplaceAt(i, child);
        }
        else
        {
            InsertAt(~i, child);
        }
    }

    /// <summary>Removes an entry if it is the one listed under its name.</summary>
    /// <param name="child">The entry.</param>
    /// <returns>Whether it was removed.</returns>
    public bool Remove(Node child)
    {
        int i = IndexOf(child.NameUtf8);
        if (i < 0 || Items()[i] != child)
        {
            return false;
        }

        RemoveAt(i);
        return true;
    }

    /// <inheritdoc/>
    protected override int Compare(Node a, Node b) => a.NameUtf8.SequenceCompareTo(b.NameUtf8);

    /// <summary>The position of <paramref name="name"/>, or the bitwise complement of where it would go.</summary>
    private int IndexOf(ReadOnlySpan<byte> name)
    {
        if (Unsorted)
        {
            throw new InvalidOperationException("The directory is being loaded; seal it before looking up.");
        }

        var items = Items();
        if (items.Length > 0 && items[^1].NameUtf8.SequenceCompareTo(name) < 0)
        {
            return ~items.Length;
        }

        int lo = 0, hi = items.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = items[mid].NameUtf8.SequenceCompareTo(name);
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
}

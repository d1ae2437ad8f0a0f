namespace Flash.Ffs.Index;

/// <summary>
/// The chunks of files whose only copy could not be read (a page unreadable while being moved, or dropped by a
/// repairing check): a read of one reports corruption instead of returning zeros. Checkpoints record them (version 3,
/// docs/format.md "Lost chunks"), so they stay lost across mounts until the file's data there is defined again.
/// </summary>
/// <remarks>
/// A mark only matters while its chunk is unmapped: a write that maps the chunk makes it readable, and the mark lies
/// dormant (it is not cleared, because a checkpoint taken while that write's handle is still open records the file as
/// before the handle, where the chunk is still lost). A mark goes when the data it covers is gone or redefined whole:
/// the file is cut below it, its chunks are cleared, it becomes inline, or it is deleted. A file handle's transaction
/// keeps the marks the file had when it first changed it (<c>PendingTxn.CommittedLost</c>): a checkpoint taken while
/// the handle is open records the file as before the handle, marks included, so a power cut before the handle commits
/// cannot turn a mark its truncation forgot into a chunk that reads as zeros. Owned by
/// <see cref="IndexMutator"/>, which changes it together with the entries.
/// </remarks>
internal sealed class LostChunks
{
    private readonly Dictionary<uint, List<uint>> _byId = [];
    private int _count;

    /// <summary>RAM held: this object, its table and one sorted list per file with lost chunks.</summary>
    public long RamBytes
    {
        get
        {
            long ram = RamSize.Object(RamSize.Reference + 4) + RamSize.Dictionary(16, _byId.Count);
            foreach (var list in _byId.Values)
            {
                ram += RamSize.Object(RamSize.Reference + 8) + RamSize.Array(4, list.Capacity);
            }

            return ram;
        }
    }

    /// <summary>How many chunks are marked lost (dormant marks included).</summary>
    public int Count => _count;

    /// <summary>Marks chunk <paramref name="chunk"/> (0 for inline data) of entry <paramref name="id"/> lost.</summary>
    /// <param name="id">The entry.</param>
    /// <param name="chunk">The chunk.</param>
    public void Add(uint id, uint chunk)
    {
        if (!_byId.TryGetValue(id, out var list))
        {
            _byId[id] = list = [];
        }

        int i = list.BinarySearch(chunk);
        if (i < 0)
        {
            list.Insert(~i, chunk);
            _count++;
        }
    }

    /// <summary>Whether chunk <paramref name="chunk"/> of entry <paramref name="id"/> is marked lost.</summary>
    /// <param name="id">The entry.</param>
    /// <param name="chunk">The chunk.</param>
    /// <returns>True when it is.</returns>
    public bool Contains(uint id, uint chunk) => _count != 0 && _byId.TryGetValue(id, out var list) && list.BinarySearch(chunk) >= 0;

    /// <summary>The marks of entry <paramref name="id"/>, ascending (empty when it has none).</summary>
    /// <param name="id">The entry.</param>
    /// <returns>The chunks.</returns>
    public ReadOnlySpan<uint> Of(uint id)
        => _count != 0 && _byId.TryGetValue(id, out var list) ? System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list) : [];

    /// <summary>Drops the marks of entry <paramref name="id"/> at or above <paramref name="firstChunk"/> (its data there is gone or redefined).</summary>
    /// <param name="id">The entry.</param>
    /// <param name="firstChunk">The first chunk forgotten; 0 forgets them all.</param>
    public void ForgetFrom(uint id, uint firstChunk)
    {
        if (_count == 0 || !_byId.TryGetValue(id, out var list))
        {
            return;
        }

        int i = list.BinarySearch(firstChunk);
        int from = i >= 0 ? i : ~i;
        _count -= list.Count - from;
        list.RemoveRange(from, list.Count - from);
        if (list.Count == 0)
        {
            _byId.Remove(id);
        }
    }
}

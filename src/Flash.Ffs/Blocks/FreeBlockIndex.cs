using System.Collections;
using Flash.Ffs.Index;

namespace Flash.Ffs.Blocks;

/// <summary>
/// The free blocks in buckets by erase count, each bucket holding two first-in-first-out lists (erased, and still to
/// erase), kept as blocks enter and leave the free pool, so that choosing the least- or most-worn free block costs a
/// look at the first bucket instead of a walk over the whole block table (issue 19: that walk was most of the host CPU
/// per page on 2 GiB). The lists are threaded through two arrays indexed by block (8 bytes a block); the sorted list of
/// non-empty erase counts stays short because wear levelling keeps the counts close together.
/// </summary>
internal sealed class FreeBlockIndex
{
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly Dictionary<uint, Bucket> _buckets = [];

    /// <summary>Erase counts whose bucket is not empty, ascending.</summary>
    private readonly List<uint> _counts = [];

    /// <summary>Buckets emptied, for reuse: erase counts keep rising, and the write path must not allocate.</summary>
    private readonly Stack<Bucket> _spare = [];

    public FreeBlockIndex(int blocks)
    {
        _next = new int[blocks];
        _prev = new int[blocks];
    }

    /// <summary>Free blocks indexed.</summary>
    public int Count { get; private set; }

    /// <summary>RAM held: this object, its two arrays, the buckets and the sorted count list.</summary>
    public long RamBytes
        => RamSize.Object((5 * RamSize.Reference) + 4) + (2 * RamSize.Array(4, _next.Length))
            + RamSize.Dictionary(24, _buckets.Count) + ((_buckets.Count + _spare.Count) * RamSize.Object(5 * 4))
            + RamSize.List(4, _counts.Capacity) + RamSize.List(8, _spare.Count);

    /// <summary>Adds a free block at the end of its bucket's list.</summary>
    public void Add(int block, uint eraseCount, bool erased)
    {
        if (!_buckets.TryGetValue(eraseCount, out var bucket))
        {
            bucket = _spare.Count > 0 ? _spare.Pop() : new Bucket();
            _buckets.Add(eraseCount, bucket);
            _counts.Insert(~_counts.BinarySearch(eraseCount), eraseCount);
        }

        ref int head = ref erased ? ref bucket.ErasedHead : ref bucket.DirtyHead;
        ref int tail = ref erased ? ref bucket.ErasedTail : ref bucket.DirtyTail;
        _next[block] = -1;
        _prev[block] = tail;
        if (tail >= 0)
        {
            _next[tail] = block;
        }
        else
        {
            head = block;
        }

        tail = block;
        bucket.Count++;
        Count++;
    }

    /// <summary>Removes a block added with the same erase count and erased flag.</summary>
    public void Remove(int block, uint eraseCount, bool erased)
    {
        var bucket = _buckets[eraseCount];
        ref int head = ref erased ? ref bucket.ErasedHead : ref bucket.DirtyHead;
        ref int tail = ref erased ? ref bucket.ErasedTail : ref bucket.DirtyTail;
        int p = _prev[block], n = _next[block];
        if (p >= 0)
        {
            _next[p] = n;
        }
        else
        {
            head = n;
        }

        if (n >= 0)
        {
            _prev[n] = p;
        }
        else
        {
            tail = p;
        }

        bucket.Count--;
        Count--;
        if (bucket.Count == 0)
        {
            _counts.RemoveAt(_counts.BinarySearch(eraseCount));
            _buckets.Remove(eraseCount);
            _spare.Push(bucket);
        }
    }

    /// <summary>Empties the index.</summary>
    public void Clear()
    {
        foreach (var bucket in _buckets.Values)
        {
            bucket.ErasedHead = bucket.ErasedTail = bucket.DirtyHead = bucket.DirtyTail = -1;
            bucket.Count = 0;
            _spare.Push(bucket);
        }

        _buckets.Clear();
        _counts.Clear();
        Count = 0;
    }

    /// <summary>
    /// The free block to use: the least-worn one, or with <paramref name="mostWorn"/> the most-worn one at most
    /// <paramref name="cap"/> (the least-worn when every free block is above it); within a bucket an erased one first,
    /// the longest free first. Skips reserved blocks and <paramref name="exclude"/>; with <paramref name="erasedOnly"/>
    /// only erased blocks count. -1 when there is none.
    /// </summary>
    public int Pick(bool mostWorn, uint cap, bool erasedOnly, BlockReservations? skip, int exclude)
    {
        if (mostWorn)
        {
            int top = _counts.BinarySearch(cap);
            top = top >= 0 ? top : ~top - 1;
            for (int i = top; i >= 0; i--)
            {
                int b = First(_buckets[_counts[i]], erasedOnly, skip, exclude);
                if (b >= 0)
                {
                    return b;
                }
            }
        }

        for (int i = 0; i < _counts.Count; i++)
        {
            int b = First(_buckets[_counts[i]], erasedOnly, skip, exclude);
            if (b >= 0)
            {
                return b;
            }
        }

        return -1;
    }

    /// <summary>
    /// Every free block in the order <see cref="Pick"/> would return them if each were taken in turn (the write pool's
    /// choice, once an anchor): by erase count, ascending, or with <paramref name="mostWorn"/> descending from
    /// <paramref name="cap"/> and then the counts above it ascending; within a bucket the erased ones first.
    /// </summary>
    public Order InOrder(bool mostWorn, uint cap) => new(this, mostWorn, cap);

    private int First(Bucket bucket, bool erasedOnly, BlockReservations? skip, int exclude)
    {
        int b = FirstIn(bucket.ErasedHead, skip, exclude);
        return b >= 0 || erasedOnly ? b : FirstIn(bucket.DirtyHead, skip, exclude);
    }

    private int FirstIn(int head, BlockReservations? skip, int exclude)
    {
        for (int b = head; b >= 0; b = _next[b])
        {
            if (b != exclude && (skip is null || !skip.Holds(b)))
            {
                return b;
            }
        }

        return -1;
    }

    /// <summary>
    /// A walk over the free blocks in <see cref="InOrder"/>'s order that allocates nothing (the write pool is chosen at
    /// every refill anchor, on the write path). Valid while the index is not changed.
    /// </summary>
    public struct Order : IEnumerator<int>
    {
        private readonly FreeBlockIndex _index;
        private readonly bool _mostWorn;

        /// <summary>Erase counts at most the cap (the most-worn walk takes these first, descending).</summary>
        private readonly int _atMostCap;
        private int _step;
        private Bucket? _bucket;
        private bool _inDirty;
        private int _block;

        internal Order(FreeBlockIndex index, bool mostWorn, uint cap)
        {
            _index = index;
            _mostWorn = mostWorn;
            int at = index._counts.BinarySearch(cap);
            _atMostCap = at >= 0 ? at + 1 : ~at;
            _block = -1;
        }

        /// <inheritdoc/>
        public int Current { get; private set; }

        readonly object IEnumerator.Current => Current;

        /// <inheritdoc/>
        public bool MoveNext()
        {
            while (true)
            {
                if (_bucket is not null)
                {
                    if (_block >= 0)
                    {
                        Current = _block;
                        _block = _index._next[_block];
                        return true;
                    }

                    if (!_inDirty)
                    {
                        _inDirty = true;
                        _block = _bucket.DirtyHead;
                        continue;
                    }

                    _bucket = null;
                }

                if (_step >= _index._counts.Count)
                {
                    return false;
                }

                // Most-worn: the counts up to the cap descending, then those above it ascending.
                int i = _mostWorn && _step < _atMostCap ? _atMostCap - 1 - _step : _step;
                _step++;
                if (_index._buckets.TryGetValue(_index._counts[i], out var bucket))
                {
                    _bucket = bucket;
                    _inDirty = false;
                    _block = bucket.ErasedHead;
                }
            }
        }

        /// <inheritdoc/>
        public void Reset() => throw new NotSupportedException();

        /// <inheritdoc/>
        public readonly void Dispose()
        {
        }
    }

    private sealed class Bucket
    {
        public int ErasedHead = -1;
        public int ErasedTail = -1;
        public int DirtyHead = -1;
        public int DirtyTail = -1;
        public int Count;
    }
}

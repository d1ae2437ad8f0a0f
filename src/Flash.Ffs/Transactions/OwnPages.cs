using Flash.Ffs.Index;

namespace Flash.Ffs.Transactions;

/// <summary>
/// The data pages an open transaction wrote that a chunk map points at, as one bit per page of each block the
/// transaction wrote to. A set of page numbers (what this replaced) cost 16–20 bytes a page and reallocated as a
/// large write grew: 60 bytes of garbage per page on W1, 59 KB per 1 MiB file; this costs a bit a page plus 4 bytes
/// a block, and a sequential write of any length allocates only when it reaches a block beyond its slots' capacity
/// (doubling, so a 1 MiB write allocates twice).
/// </summary>
/// <remarks>
/// Pages are added in the order the log programs them, so the block of the newest add is almost always the block of
/// the next one: that slot is remembered. Other lookups search the slots, through a dictionary once a transaction
/// spans more than <see cref="LinearSlots"/> blocks (a 1 GiB write spans 8,192).
/// </remarks>
internal sealed class OwnPages
{
    /// <summary>Up to this many blocks a lookup scans the slots; beyond it a dictionary maps block to slot.</summary>
    private const int LinearSlots = 16;

    private readonly int _ppb;
    private readonly int _words;
    private int[] _blocks = [];
    private ulong[] _bits = [];
    private int _slots;
    private int _lastSlot = -1;
    private Dictionary<int, int>? _slotOf;

    /// <summary>Creates an empty set for pages of <paramref name="pagesPerBlock"/>-page blocks.</summary>
    public OwnPages(int pagesPerBlock)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pagesPerBlock);
        _ppb = pagesPerBlock;
        _words = (pagesPerBlock + 63) / 64;
    }

    /// <summary>Pages in the set.</summary>
    public int Count { get; private set; }

    /// <summary>Blocks the arrays have room for (a transaction kept for reuse must not hold a large write's arrays).</summary>
    public int BlockCapacity => _blocks.Length;

    /// <summary>RAM held, for statistics.</summary>
    public long RamBytes =>
        RamSize.Object(RamSize.Reference * 3 + (4 * 6))
        + (_blocks.Length == 0 ? 0 : RamSize.Array(4, _blocks.Length) + RamSize.Array(8, _bits.Length))
        + (_slotOf is null ? 0 : RamSize.Dictionary(8, _slotOf.Count));

    /// <summary>Adds <paramref name="page"/>; returns false when it was there already.</summary>
    public bool Add(int page)
    {
        int slot = SlotOf(page / _ppb, create: true);
        ref ulong word = ref _bits[(slot * _words) + ((page % _ppb) >> 6)];
        ulong mask = 1UL << (page % _ppb);
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        Count++;
        return true;
    }

    /// <summary>Removes <paramref name="page"/>; returns false when it was not there. A block's slot stays (it is reused if the transaction writes there again).</summary>
    public bool Remove(int page)
    {
        int slot = SlotOf(page / _ppb, create: false);
        if (slot < 0)
        {
            return false;
        }

        ref ulong word = ref _bits[(slot * _words) + ((page % _ppb) >> 6)];
        ulong mask = 1UL << (page % _ppb);
        if ((word & mask) == 0)
        {
            return false;
        }

        word &= ~mask;
        Count--;
        return true;
    }

    /// <summary>Whether <paramref name="page"/> is in the set.</summary>
    public bool Contains(int page)
    {
        int slot = SlotOf(page / _ppb, create: false);
        return slot >= 0 && (_bits[(slot * _words) + ((page % _ppb) >> 6)] & (1UL << (page % _ppb))) != 0;
    }

    /// <summary>Empties the set, keeping its arrays.</summary>
    public void Clear()
    {
        _bits.AsSpan(0, _slots * _words).Clear();
        _slots = 0;
        _lastSlot = -1;
        _slotOf = null;
        Count = 0;
    }

    private int SlotOf(int block, bool create)
    {
        if (_lastSlot >= 0 && _blocks[_lastSlot] == block)
        {
            return _lastSlot;
        }

        int slot = -1;
        if (_slotOf is not null)
        {
            if (!_slotOf.TryGetValue(block, out slot))
            {
                slot = -1;
            }
        }
        else
        {
            slot = Array.IndexOf(_blocks, block, 0, _slots);
        }

        if (slot < 0)
        {
            if (!create)
            {
                return -1;
            }

            slot = NewSlot(block);
        }

        _lastSlot = slot;
        return slot;
    }

    private int NewSlot(int block)
    {
        if (_slots == _blocks.Length)
        {
            int capacity = Math.Max(4, _blocks.Length * 2);
            Array.Resize(ref _blocks, capacity);
            Array.Resize(ref _bits, capacity * _words);
        }

        int slot = _slots++;
        _blocks[slot] = block;
        if (_slotOf is not null)
        {
            _slotOf.Add(block, slot);
        }
        else if (_slots > LinearSlots)
        {
            _slotOf = new Dictionary<int, int>(_slots * 2);
            for (int i = 0; i < _slots; i++)
            {
                _slotOf.Add(_blocks[i], i);
            }
        }

        return slot;
    }
}

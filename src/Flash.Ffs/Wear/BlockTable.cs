using Flash.Ffs.Index;

namespace Flash.Ffs.Wear;

/// <summary>What a block is used for.</summary>
internal enum BlockState : byte
{
    /// <summary>In the free pool (erased, or to be erased before use).</summary>
    Free = 0,

    /// <summary>A log head is writing into it.</summary>
    Open = 1,

    /// <summary>Written and closed; a garbage-collection candidate.</summary>
    Full = 2,

    /// <summary>Holds checkpoint pages.</summary>
    Checkpoint = 3,

    /// <summary>One of the two anchor (superblock) blocks.</summary>
    Anchor = 4,

    /// <summary>Marked bad; never used.</summary>
    Bad = 5,

    /// <summary>Failed a program; its data was moved and it is marked bad at the next checkpoint.</summary>
    Retiring = 6,
}

/// <summary>
/// Per-block bookkeeping in RAM: state, erase count, first sequence number, which pages hold live data, and how many
/// of those are pinned by uncommitted transactions (which garbage collection must not move).
/// </summary>
internal sealed class BlockTable
{
    private readonly int _ppb;
    private readonly int _words;
    private readonly ulong[] _validBits;
    private readonly BlockBits _emptied;
    private readonly BlockRecordHook _recorded = new();

    public BlockTable(int blockCount, int pagesPerBlock)
    {
        _ppb = pagesPerBlock;
        _words = (pagesPerBlock + 63) / 64;
        Count = blockCount;

        // Every field a checkpoint records for a block reports its changes through one hook (RecordObserver).
        State = new BlockStates(blockCount, _recorded);
        EraseCount = new EraseCounts(blockCount, _recorded);
        FirstSequence = new FirstSequences(blockCount, _recorded);
        LastSequence = FirstSequence.Last;
        Valid = new PageCounts(blockCount);
        Written = new PageCounts(blockCount);
        Pinned = new SparsePageCounts(blockCount);
        Held = new SparsePageCounts(blockCount);
        Erased = new BlockBits(blockCount, _recorded);
        _validBits = new ulong[blockCount * _words];
        _emptied = new BlockBits(blockCount);
    }

    public int Count { get; }

    /// <summary>Live pages over all blocks.</summary>
    public long LivePages { get; private set; }

    public BlockStates State { get; }

    /// <summary>Erases of each block.</summary>
    public EraseCounts EraseCount { get; }

    /// <summary>Sequence number of the block's first page (its age).</summary>
    public FirstSequences FirstSequence { get; }

    /// <summary>
    /// Whether a page tagged <paramref name="sequence"/> can be the one this erase cycle of its block wrote at
    /// <paramref name="page"/>: pages are programmed in order, each with a new number, so page i of a block whose
    /// first page has number F carries at least F + i. A page from an older cycle (an old copy of the block written
    /// back, a block swapped in) carries less.
    /// </summary>
    public bool SequenceFits(int page, ulong sequence) => sequence >= FirstSequence[page / _ppb] + (ulong)(page % _ppb);

    /// <summary>Sequence number of the block's last written page; a block is movable only once a checkpoint covers it.</summary>
    public LastSequences LastSequence { get; }

    /// <summary>Live pages per block.</summary>
    public PageCounts Valid { get; }

    /// <summary>Pages written since the last erase.</summary>
    public PageCounts Written { get; }

    /// <summary>Pages superseded by uncommitted transactions, still needed if power fails.</summary>
    public SparsePageCounts Pinned { get; }

    /// <summary>
    /// Checkpoints that list the block as holding pages of a transaction open at their start, whose recovery may need
    /// them where they are (docs/format.md, "Checkpoints over open handles"). Unlike <see cref="Pinned"/>, says
    /// nothing about which pages are live.
    /// </summary>
    public SparsePageCounts Held { get; }

    /// <summary>Whether a free block is known to be erased (and so can be opened without an erase).</summary>
    public BlockBits Erased { get; }

    /// <summary>
    /// Told whenever a field a checkpoint records for a block (state, erased flag, erase count, first sequence) takes
    /// a new value: the checkpoint writer's dirty bitmaps (<see cref="DirtyBlocks"/>), which find what a delta lists.
    /// </summary>
    public IBlockRecordObserver? RecordObserver
    {
        get => _recorded.Observer;
        set => _recorded.Observer = value;
    }

    /// <summary>
    /// RAM held: this object and its arrays (21 bytes and two bits a block plus the validity bitmap; pinned and held
    /// counts only for the few blocks that have them).
    /// </summary>
    public long RamBytes =>
        RamSize.Object((12 * RamSize.Reference) + 4 + 4 + 4 + 8 + 1) + RamSize.Object(RamSize.Reference)
        + State.RamBytes + EraseCount.RamBytes + FirstSequence.RamBytes + LastSequence.RamBytes
        + Valid.RamBytes + Written.RamBytes + Pinned.RamBytes + Held.RamBytes + Erased.RamBytes + RamSize.Array(8, _validBits.Length) + _emptied.RamBytes;

    public bool IsValid(int page)
    {
        int b = page / _ppb, i = page % _ppb;
        return (_validBits[(b * _words) + (i >> 6)] & (1UL << (i & 63))) != 0;
    }

    public void SetValid(int page)
    {
        int b = page / _ppb, i = page % _ppb;
        ref ulong word = ref _validBits[(b * _words) + (i >> 6)];
        ulong bit = 1UL << (i & 63);
        if ((word & bit) == 0)
        {
            word |= bit;
            Valid[b]++;
            LivePages++;
        }
    }

    public void ClearValid(int page)
    {
        int b = page / _ppb, i = page % _ppb;
        ref ulong word = ref _validBits[(b * _words) + (i >> 6)];
        ulong bit = 1UL << (i & 63);
        if ((word & bit) != 0)
        {
            word &= ~bit;
            Valid[b]--;
            LivePages--;
            if (Valid[b] == 0)
            {
                MarkEmptied(b);
            }
        }
    }

    /// <summary>
    /// Marks a block whose last live page went (or that closed empty): a candidate for going back to the free pool, so
    /// that finding those needs a walk over one bit a block instead of the whole table.
    /// </summary>
    public void MarkEmptied(int block) => _emptied[block] = true;

    /// <summary>Drops a block from the candidates (reclaimed, or live again).</summary>
    public void UnmarkEmptied(int block) => _emptied[block] = false;

    /// <summary>The candidate bits, 64 blocks a word (block = word index * 64 + bit). Meaningless while <see cref="EmptiedUnknown"/> is set.</summary>
    public ReadOnlySpan<ulong> EmptiedBits => _emptied.Words;

    /// <summary>Whether validity was rebuilt wholesale since the emptied candidates were last seeded by a full walk.</summary>
    public bool EmptiedUnknown { get; set; } = true;

    public void ClearBlock(int block)
    {
        _validBits.AsSpan(block * _words, _words).Clear();
        LivePages -= Valid[block];
        Valid[block] = 0;
        Written[block] = 0;
        Pinned[block] = 0;
        Held[block] = 0;
    }

    public void ClearAllValidity()
    {
        EmptiedUnknown = true;
        Array.Clear(_validBits);
        Valid.Clear();
        LivePages = 0;
    }

    /// <summary>Pages of a block that hold live data.</summary>
    public IEnumerable<int> ValidPages(int block)
    {
        for (int i = 0; i < _ppb; i++)
        {
            if ((_validBits[(block * _words) + (i >> 6)] & (1UL << (i & 63))) != 0)
            {
                yield return (block * _ppb) + i;
            }
        }
    }

    public bool IsUsable(int block) => State[block] is not (BlockState.Bad or BlockState.Retiring);
}

/// <summary>
/// A page count per block (live, written, pinned), stored in 16 bits: a block has at most 4,096 pages
/// (<see cref="Flash.Drivers.FlashGeometry"/>), so this halves the RAM of an int array while reading and writing as int.
/// </summary>
internal sealed class PageCounts
{
    private readonly short[] _values;

    public PageCounts(int blocks) => _values = new short[blocks];

    public int Length => _values.Length;

    /// <summary>RAM held: this object and its array.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference) + RamSize.Array(2, _values.Length);

    public int this[int block]
    {
        get => _values[block];
        set => _values[block] = (short)value;
    }

    public void Clear() => Array.Clear(_values);
}

/// <summary>
/// A page count per block that is zero for almost every block (pages pinned by uncommitted transactions, blocks held
/// for a checkpoint's open transactions): only the non-zero counts are kept, so the table costs nothing a block
/// (issue 19: ≤ 8 B of RAM a block). Reads of a zero count are one emptiness test while no block has one.
/// </summary>
internal sealed class SparsePageCounts
{
    private readonly Dictionary<int, int> _values = [];

    public SparsePageCounts(int blocks) => Length = blocks;

    public int Length { get; }

    /// <summary>Blocks with a non-zero count.</summary>
    public int NonZero => _values.Count;

    /// <summary>RAM held: this object and its dictionary (its capacity stays at the most blocks counted at once, so updates do not allocate once warm).</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference + 4) + RamSize.Dictionary(16, _values.Capacity);

    public int this[int block]
    {
        get
        {
            CheckBlock(block, Length);

            return _values.Count != 0 && _values.TryGetValue(block, out int v) ? v : 0;
        }

        set
        {
            CheckBlock(block, Length);

            // Stored as the 16-bit counts were: a count never goes below zero for long, and a bug that makes one
            // negative must show as it did before (the checker compares counts).
            int stored = (short)value;
            if (stored == 0)
            {
                _values.Remove(block);
            }
            else
            {
                _values[block] = stored;
            }
        }
    }

    public void Clear() => _values.Clear();

    internal static void CheckBlock(int block, int length)
    {
        if ((uint)block >= (uint)length)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, "No such block.");
        }
    }
}

/// <summary>
/// The sequence number of each block's first page. Setting one keeps the block's last sequence
/// (<see cref="LastSequences"/>, stored relative to it) unchanged.
/// </summary>
internal sealed class FirstSequences
{
    private readonly ulong[] _values;
    private readonly BlockRecordHook? _recorded;

    public FirstSequences(int blocks, BlockRecordHook? recorded = null)
    {
        _values = new ulong[blocks];
        _recorded = recorded;
        Last = new LastSequences(_values);
    }

    /// <summary>The last sequences, stored as offsets from these.</summary>
    public LastSequences Last { get; }

    public int Length => _values.Length;

    /// <summary>RAM held: this object and its array.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference * 3) + RamSize.Array(8, _values.Length);

    public ulong this[int block]
    {
        get => _values[block];
        set
        {
            ulong last = Last[block];
            if (_values[block] != value)
            {
                _values[block] = value;
                _recorded?.Changed(block);
            }

            Last[block] = last;
        }
    }
}

/// <summary>
/// The sequence number of each block's last written page, exact, in 4 bytes a block instead of 8 (issue 19): kept as
/// a signed offset from the block's first sequence, which it is within a block's lifetime (a block is written by one
/// head, pages in order; restored and released blocks set it just below or at the first). An offset that does not fit
/// (a block left open over two billion other pages, or an old value far from a new first) is kept exactly in a small
/// overflow table instead.
/// </summary>
internal sealed class LastSequences
{
    /// <summary>Offset marking a block whose last sequence is in the overflow table.</summary>
    private const int Far = int.MinValue;

    private readonly ulong[] _first;
    private readonly int[] _offset;
    private readonly Dictionary<int, ulong> _far = [];

    public LastSequences(ulong[] first)
    {
        _first = first;
        _offset = new int[first.Length];
    }

    public int Length => _offset.Length;

    /// <summary>Blocks whose last sequence did not fit an offset.</summary>
    public int FarCount => _far.Count;

    /// <summary>RAM held: this object, its offsets and the overflow table.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference * 3) + RamSize.Array(4, _offset.Length) + RamSize.Dictionary(16, _far.Capacity);

    public ulong this[int block]
    {
        get
        {
            int o = _offset[block];
            return o != Far ? unchecked(_first[block] + (ulong)(long)o) : _far[block];
        }

        set
        {
            long d = unchecked((long)(value - _first[block]));
            if (d > int.MinValue && d <= int.MaxValue)
            {
                if (_offset[block] == Far)
                {
                    _far.Remove(block);
                }

                _offset[block] = (int)d;
            }
            else
            {
                _offset[block] = Far;
                _far[block] = value;
            }
        }
    }
}

/// <summary>One bit a block (whether a free block is known to be erased; whether a block emptied), read and written as a bool.</summary>
internal sealed class BlockBits
{
    private readonly ulong[] _bits;
    private readonly BlockRecordHook? _recorded;

    /// <summary>Creates the bits, all clear.</summary>
    /// <param name="blocks">Blocks covered.</param>
    /// <param name="recorded">Told of each bit that changes, when a checkpoint records it (the erased flag), or null.</param>
    public BlockBits(int blocks, BlockRecordHook? recorded = null)
    {
        Length = blocks;
        _bits = new ulong[(blocks + 63) / 64];
        _recorded = recorded;
    }

    public int Length { get; }

    /// <summary>RAM held: this object and its words.</summary>
    public long RamBytes => RamSize.Object((RamSize.Reference * 2) + 4) + RamSize.Array(8, _bits.Length);

    /// <summary>The bits, 64 blocks a word (block = word index * 64 + bit), for walks that skip empty words.</summary>
    public ReadOnlySpan<ulong> Words => _bits;

    public bool this[int block]
    {
        get
        {
            SparsePageCounts.CheckBlock(block, Length);

            return (_bits[block >> 6] & (1UL << (block & 63))) != 0;
        }

        set
        {
            SparsePageCounts.CheckBlock(block, Length);

            ref ulong word = ref _bits[block >> 6];
            ulong old = word;
            if (value)
            {
                word |= 1UL << (block & 63);
            }
            else
            {
                word &= ~(1UL << (block & 63));
            }

            if (word != old)
            {
                _recorded?.Changed(block);
            }
        }
    }
}

/// <summary>What follows the block states: told of each change, and when a bulk load makes incremental following impossible.</summary>
internal interface IBlockStateObserver
{
    /// <summary><paramref name="block"/> went from <paramref name="from"/> to <paramref name="to"/>; its other fields are unchanged yet.</summary>
    void StateChanged(int block, BlockState from, BlockState to);

    /// <summary>States (and the fields beside them) are being loaded wholesale: rebuild before the next use.</summary>
    void Invalidated();
}

/// <summary>
/// The state of every block, with the number of free ones kept as states change: the write path asks for it on every
/// operation, and counting would walk the whole table each time.
/// </summary>
internal sealed class BlockStates
{
    private readonly BlockState[] _states;
    private readonly BlockRecordHook? _recorded;

    public BlockStates(int blocks, BlockRecordHook? recorded = null)
    {
        _states = new BlockState[blocks];
        _recorded = recorded;
        FreeCount = blocks;
    }

    /// <summary>Blocks in the free pool.</summary>
    public int FreeCount { get; private set; }

    /// <summary>RAM held: this object and its array.</summary>
    public long RamBytes => RamSize.Object((RamSize.Reference * 3) + 4) + RamSize.Array(1, _states.Length);

    /// <summary>The state of a block.</summary>
    public BlockState this[int block] => _states[block];

    /// <summary>Told of every state change, so that indexes over the table follow it (the block pool's).</summary>
    public IBlockStateObserver? Observer { get; set; }

    /// <summary>
    /// Applies a named transition; the only way a block's state changes once the table is loaded.
    /// </summary>
    /// <exception cref="IllegalBlockTransitionException">The transition is not legal from the block's state; nothing changed.</exception>
    public void Apply(int block, BlockTransition transition)
    {
        var from = _states[block];
        if (!BlockTransitions.Allows(transition, from))
        {
            throw new IllegalBlockTransitionException(block, from, transition);
        }

        Set(block, BlockTransitions.Target(transition));
    }

    /// <summary>
    /// Sets a block's state as a checkpoint image recorded it, while the table is loaded at mount (no transition: the
    /// image, checked by its CRC and decoder, is the truth).
    /// </summary>
    public void Restore(int block, BlockState state)
    {
        if (state > BlockState.Retiring)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown block state.");
        }

        Set(block, state);

        // The rest of the block's record is loaded after its state: indexes are rebuilt once loading is done.
        Observer?.Invalidated();
    }

    private void Set(int block, BlockState value)
    {
        var old = _states[block];
        FreeCount += (value == BlockState.Free ? 1 : 0) - (old == BlockState.Free ? 1 : 0);
        _states[block] = value;
        if (old != value)
        {
            _recorded?.Changed(block);
        }

        Observer?.StateChanged(block, old, value);
    }
}

/// <summary>What follows the fields a checkpoint records for a block (state, erased flag, erase count, first sequence).</summary>
internal interface IBlockRecordObserver
{
    /// <summary>One of <paramref name="block"/>'s recorded fields took a new value.</summary>
    /// <param name="block">The block.</param>
    void RecordChanged(int block);
}

/// <summary>
/// The one way a recorded field reports a change: <see cref="BlockStates"/>, <see cref="EraseCounts"/>,
/// <see cref="FirstSequences"/> and the erased <see cref="BlockBits"/> each call it from their only setter, so no
/// mutation of a recorded field can bypass <see cref="BlockTable.RecordObserver"/>.
/// </summary>
internal sealed class BlockRecordHook
{
    /// <summary>Told of each change, or null.</summary>
    public IBlockRecordObserver? Observer { get; set; }

    /// <summary>A recorded field of <paramref name="block"/> changed.</summary>
    /// <param name="block">The block.</param>
    public void Changed(int block) => Observer?.RecordChanged(block);
}

/// <summary>The erase count of each block, read and written as a uint array (its setter reports changes: a checkpoint records it).</summary>
internal sealed class EraseCounts
{
    private readonly uint[] _values;
    private readonly BlockRecordHook? _recorded;

    /// <summary>Creates the counts, all zero.</summary>
    /// <param name="blocks">Blocks covered.</param>
    /// <param name="recorded">Told of each change, or null.</param>
    public EraseCounts(int blocks, BlockRecordHook? recorded = null)
    {
        _values = new uint[blocks];
        _recorded = recorded;
    }

    /// <summary>Blocks covered.</summary>
    public int Length => _values.Length;

    /// <summary>RAM held: this object and its array.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference * 2) + RamSize.Array(4, _values.Length);

    /// <summary>The erase count of <paramref name="block"/>.</summary>
    /// <param name="block">The block.</param>
    public uint this[int block]
    {
        get => _values[block];
        set
        {
            if (_values[block] != value)
            {
                _values[block] = value;
                _recorded?.Changed(block);
            }
        }
    }
}

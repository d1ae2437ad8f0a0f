using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// The current base checkpoint and what changed since it (format 5): what a delta needs. The base's body reference,
/// the ids of entries created, changed or deleted since its sequence S0 (O(changes) RAM, no allocation per page), and
/// a dirty bitmap of the blocks whose recorded entry (state, erased flag, erase count, first sequence) changed since
/// S0 (one bit a block: the block table tells it of every change, <see cref="BlockTable.RecordObserver"/>), with the
/// few blocks the base recorded as free although RAM held them and their entries as recorded. While a new base is
/// being written, changes since its S0 are gathered apart (a second bitmap) and become the tracked ones when it
/// commits (or are dropped when it is abandoned).
/// </summary>
internal sealed class CheckpointBase : IBlockRecordObserver
{
    private HashSet<uint> _changed = [];
    private HashSet<uint>? _changedSincePending;
    private DirtyBlocks _dirty;
    private DirtyBlocks _dirtySincePending;
    private (int Block, CheckpointBlock Entry)[] _recordedFree = [];
    private (int Block, CheckpointBlock Entry)[]? _pendingRecordedFree;
    private Dictionary<uint, ChangedChunks> _chunks = [];
    private Dictionary<uint, ChangedChunks>? _chunksSincePending;
    private uint _nextId;
    private uint _pendingNextId;
#if DEBUG
    private byte[]? _pendingTable;
#endif

    /// <summary>Creates the tracker for a volume of <paramref name="blocks"/> blocks, no base known.</summary>
    /// <param name="blocks">Blocks of the volume.</param>
    public CheckpointBase(int blocks)
    {
        _dirty = new DirtyBlocks(blocks);
        _dirtySincePending = new DirtyBlocks(blocks);
    }

    /// <summary>Whether a base is current and tracked (false after a mount: the first checkpoint then is a base).</summary>
    public bool Known => Reference is not null;

    /// <summary>The current base, as a delta references it, or null.</summary>
    public CheckpointBaseRef? Reference { get; private set; }

    /// <summary>The base's pages (stay claimed while a delta over it is current).</summary>
    public List<int> Pages { get; private set; } = [];

    /// <summary>Blocks whose recorded entry changed since the base's S0 (or changed and changed back: listing those costs bytes, not correctness).</summary>
    public DirtyBlocks Dirty => _dirty;

    /// <summary>
    /// The blocks the base recorded as free although RAM held them (the previous checkpoint's, for an incremental
    /// base), with the entries it recorded: a delta compares these exactly, whatever their dirty bits say.
    /// </summary>
    public ReadOnlySpan<(int Block, CheckpointBlock Entry)> RecordedFree => _recordedFree;

#if DEBUG
    /// <summary>Debug builds only: the base's block table as recorded, to check that a delta lists every block the old comparison would have (not counted in <see cref="RamBytes"/>).</summary>
    public byte[] Table { get; private set; } = [];
#endif

    /// <summary>Bytes of the deltas committed since the base.</summary>
    public long DeltaBytesSince { get; set; }

    /// <summary>Ids changed since the base.</summary>
    public HashSet<uint> Changed => _changed;

    /// <summary>
    /// What changed in each file changed since the base, for its entry patch: its changed chunk runs, or that it must
    /// be written whole. A changed id without one here changed only in size or modification sequence.
    /// </summary>
    /// <param name="id">The id.</param>
    /// <returns>Its changed chunks, or null.</returns>
    public ChangedChunks? ChunksOf(uint id) => id >= _nextId ? ChangedChunks.WholeEntry : _chunks.GetValueOrDefault(id);

    /// <summary>RAM held: this object, the changed-id sets, the changed chunks, the two dirty bitmaps (two bits a block) and the recorded-free lists.</summary>
    public long RamBytes => RamSize.Object((7 * RamSize.Reference) + 8) + RamSize.HashSet(4, _changed.Count) + RamSize.HashSet(4, _changedSincePending?.Count ?? 0)
        + ChunksRam(_chunks) + ChunksRam(_chunksSincePending)
        + _dirty.RamBytes + _dirtySincePending.RamBytes + RamSize.Array(24, _recordedFree.Length) + RamSize.Array(24, _pendingRecordedFree?.Length ?? 0)
        + RamSize.List(4, Pages.Capacity);

    /// <summary>An entry is about to change (or be created or deleted).</summary>
    /// <param name="id">Its id.</param>
    public void Changing(uint id)
    {
        if (Reference is not null)
        {
            _changed.Add(id);
        }

        _changedSincePending?.Add(id);
    }

    /// <inheritdoc/>
    public void RecordChanged(int block)
    {
        _dirty.Set(block);
        if (_pendingRecordedFree is not null)
        {
            _dirtySincePending.Set(block);
        }
    }

    /// <summary>Chunks [<paramref name="first"/>, <paramref name="end"/>) of file <paramref name="id"/> are about to be mapped anew or unmapped.</summary>
    /// <param name="id">The file.</param>
    /// <param name="first">The first chunk.</param>
    /// <param name="end">One past the last.</param>
    public void ChunksChanging(uint id, uint first, uint end)
    {
        Changing(id);
        if (Reference is not null && id < _nextId)
        {
            Of(_chunks, id).Add(first, end);
        }

        if (_chunksSincePending is { } pending && id < _pendingNextId)
        {
            Of(pending, id).Add(first, end);
        }
    }

    /// <summary>Entry <paramref name="id"/> is about to change in a way an entry patch cannot describe: it is written whole.</summary>
    /// <param name="id">The entry.</param>
    public void Reshaping(uint id)
    {
        Changing(id);
        if (Reference is not null && id < _nextId)
        {
            _chunks[id] = ChangedChunks.WholeEntry;
        }

        if (_chunksSincePending is { } pending && id < _pendingNextId)
        {
            pending[id] = ChangedChunks.WholeEntry;
        }
    }

    /// <summary>The base being written records entry <paramref name="id"/> as its committed view (uncommitted writes left out): the deltas over it write it whole.</summary>
    /// <param name="id">The entry.</param>
    public void RecordedAsView(uint id)
    {
        _changedSincePending?.Add(id);
        if (_chunksSincePending is { } pending)
        {
            pending[id] = ChangedChunks.WholeEntry;
        }
    }

    private static ChangedChunks Of(Dictionary<uint, ChangedChunks> map, uint id)
    {
        if (!map.TryGetValue(id, out var c))
        {
            c = new ChangedChunks();
            map.Add(id, c);
        }

        return c;
    }

    private static long ChunksRam(Dictionary<uint, ChangedChunks>? map)
    {
        if (map is null)
        {
            return 0;
        }

        long ram = RamSize.Object(RamSize.Reference) + (map.Count * (16L + RamSize.Reference));
        foreach (var c in map.Values)
        {
            ram += ReferenceEquals(c, ChangedChunks.WholeEntry) ? 0 : c.RamBytes;
        }

        return ram;
    }

    /// <summary>A base starts at its S0 (its block table is serialised now): changes from now on are gathered for it.</summary>
    /// <param name="recordedFree">The blocks it records as free although RAM holds them, with the entries it records.</param>
    /// <param name="table">Debug builds: its block table as recorded (null in release builds).</param>
    /// <param name="nextId">The next entry id at its S0 (entries from it on are not in it: the deltas over it write them whole).</param>
    public void BaseStarted((int Block, CheckpointBlock Entry)[] recordedFree, byte[]? table, uint nextId)
    {
        _changedSincePending = [];
        _chunksSincePending = [];
        _pendingNextId = nextId;
        _dirtySincePending.Clear();
        _pendingRecordedFree = recordedFree;
#if DEBUG
        _pendingTable = table;
#else
        _ = table;
#endif
    }

    /// <summary>The base <see cref="BaseStarted"/> began committed: it is current, with the changes since its S0.</summary>
    /// <param name="reference">Its reference.</param>
    /// <param name="pages">Its pages.</param>
    public void BaseCommitted(CheckpointBaseRef reference, List<int> pages)
    {
        if (_pendingRecordedFree is null || _changedSincePending is null)
        {
            throw new InvalidOperationException("A base committed that did not start.");
        }

        _nextId = _pendingNextId;
        Reference = reference;
        Pages = pages;
        _changed = _changedSincePending;
        _changedSincePending = null;
        (_dirty, _dirtySincePending) = (_dirtySincePending, _dirty);
        _recordedFree = _pendingRecordedFree;
        _pendingRecordedFree = null;
        _chunks = _chunksSincePending ?? [];
        _chunksSincePending = null;
#if DEBUG
        Table = _pendingTable ?? [];
        _pendingTable = null;
#endif
        DeltaBytesSince = 0;
    }

    /// <summary>A base that started was abandoned (or failed before its anchor): the current base (if any) stays.</summary>
    public void BaseAbandoned()
    {
        _changedSincePending = null;
        _pendingRecordedFree = null;
        _chunksSincePending = null;
#if DEBUG
        _pendingTable = null;
#endif
    }

    /// <summary>No base is known (mounted volume): the next checkpoint is a base.</summary>
    public void Forget()
    {
        Reference = null;
        Pages = [];
        _changed = [];
        _changedSincePending = null;
        _dirty.Clear();
        _recordedFree = [];
        _pendingRecordedFree = null;
        _chunks = [];
        _chunksSincePending = null;
        _nextId = 0;
#if DEBUG
        Table = [];
        _pendingTable = null;
#endif
        DeltaBytesSince = 0;
    }
}

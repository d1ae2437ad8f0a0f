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

    /// <summary>RAM held: this object, the changed-id sets, the two dirty bitmaps (two bits a block) and the recorded-free lists.</summary>
    public long RamBytes => RamSize.Object((7 * RamSize.Reference) + 8) + RamSize.HashSet(4, _changed.Count) + RamSize.HashSet(4, _changedSincePending?.Count ?? 0)
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

    /// <summary>A base starts at its S0 (its block table is serialised now): changes from now on are gathered for it.</summary>
    /// <param name="recordedFree">The blocks it records as free although RAM holds them, with the entries it records.</param>
    /// <param name="table">Debug builds: its block table as recorded (null in release builds).</param>
    public void BaseStarted((int Block, CheckpointBlock Entry)[] recordedFree, byte[]? table)
    {
        _changedSincePending = [];
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

        Reference = reference;
        Pages = pages;
        _changed = _changedSincePending;
        _changedSincePending = null;
        (_dirty, _dirtySincePending) = (_dirtySincePending, _dirty);
        _recordedFree = _pendingRecordedFree;
        _pendingRecordedFree = null;
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
#if DEBUG
        Table = [];
        _pendingTable = null;
#endif
        DeltaBytesSince = 0;
    }
}

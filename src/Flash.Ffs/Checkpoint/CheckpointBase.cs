using Flash.Ffs.Format;
using Flash.Ffs.Index;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// The current base checkpoint and what changed since it (format 5): what a delta needs. The base's body reference
/// and block table as it recorded them, and the ids of entries created, changed or deleted since its sequence S0
/// (O(changes) RAM, no allocation per page). While a new base is being written, changes since its S0 are gathered
/// apart and become the tracked set when it commits (or are dropped when it is abandoned).
/// </summary>
internal sealed class CheckpointBase
{
    private HashSet<uint> _changed = [];
    private HashSet<uint>? _changedSincePending;
    private byte[]? _pendingTable;

    /// <summary>Whether a base is current and tracked (false after a mount: the first checkpoint then is a base).</summary>
    public bool Known => Reference is not null;

    /// <summary>The current base, as a delta references it, or null.</summary>
    public CheckpointBaseRef? Reference { get; private set; }

    /// <summary>The base's pages (stay claimed while a delta over it is current).</summary>
    public List<int> Pages { get; private set; } = [];

    /// <summary>The base's block table as it recorded it.</summary>
    public byte[] Table { get; private set; } = [];

    /// <summary>Bytes of the deltas committed since the base.</summary>
    public long DeltaBytesSince { get; set; }

    /// <summary>Ids changed since the base.</summary>
    public HashSet<uint> Changed => _changed;

    /// <summary>RAM held: this object, the changed-id sets and the block table copy.</summary>
    public long RamBytes => RamSize.Object((5 * RamSize.Reference) + 8) + RamSize.HashSet(4, _changed.Count) + RamSize.HashSet(4, _changedSincePending?.Count ?? 0)
        + RamSize.Array(1, Table.Length) + RamSize.Array(1, _pendingTable?.Length ?? 0) + RamSize.List(4, Pages.Capacity);

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

    /// <summary>An incremental base starts at its S0: changes from now on are gathered for it.</summary>
    /// <param name="table">Its block table as recorded.</param>
    public void BaseStarted(byte[] table)
    {
        _changedSincePending = [];
        _pendingTable = table;
    }

    /// <summary>A base committed: it is current, with the changes since its S0.</summary>
    /// <param name="reference">Its reference.</param>
    /// <param name="pages">Its pages.</param>
    /// <param name="table">Its block table (null: the one <see cref="BaseStarted"/> was given).</param>
    public void BaseCommitted(CheckpointBaseRef reference, List<int> pages, byte[]? table)
    {
        Reference = reference;
        Pages = pages;
        Table = table ?? _pendingTable!;
        _changed = _changedSincePending ?? [];
        _changedSincePending = null;
        _pendingTable = null;
        DeltaBytesSince = 0;
    }

    /// <summary>An incremental base was abandoned: the current base (if any) stays.</summary>
    public void BaseAbandoned()
    {
        _changedSincePending = null;
        _pendingTable = null;
    }

    /// <summary>No base is known (mounted volume): the next checkpoint is a base.</summary>
    public void Forget()
    {
        Reference = null;
        Pages = [];
        Table = [];
        _changed = [];
        _changedSincePending = null;
        _pendingTable = null;
        DeltaBytesSince = 0;
    }
}

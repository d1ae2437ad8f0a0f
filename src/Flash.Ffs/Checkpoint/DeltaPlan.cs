using Flash.Ffs.Format;
using Flash.Ffs.Index;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// What a delta checkpoint records, fixed at its S0: the base it references, the block-table entries that differ
/// from the base's, the entries it writes (ids ascending; each as it was at S0) and the ids deleted since the base.
/// </summary>
/// <param name="Base">The base.</param>
/// <param name="Present">Ids of entries created or changed since the base that exist at S0, ascending.</param>
/// <param name="Deleted">Ids changed since the base that no longer exist at S0 (or are left out as uncommitted), ascending.</param>
/// <param name="EntryBytes">Bytes of the entries of <paramref name="Present"/>.</param>
internal sealed class DeltaPlan(CheckpointBaseRef Base, uint[] Present, uint[] Deleted, int EntryBytes)
{
    /// <summary>The base.</summary>
    public CheckpointBaseRef Base { get; } = Base;

    /// <summary>Ids of the entries written, ascending.</summary>
    public uint[] Present { get; } = Present;

    /// <summary>Ids deleted since the base, ascending.</summary>
    public uint[] Deleted { get; } = Deleted;

    /// <summary>Bytes of the entries written.</summary>
    public int EntryBytes { get; } = EntryBytes;

    /// <summary>Blocks whose recorded entry differs from the base's (refreshed until the blocks it fills are claimed).</summary>
    public List<int> Changed { get; } = [];

    /// <summary>Entries not written yet (an incremental delta takes each out when it writes it, in turn or before it changes).</summary>
    public HashSet<uint> Remaining { get; } = [.. Present];

    /// <summary>Entries of <see cref="Present"/> that have had their turn.</summary>
    public int Cursor { get; set; }

    /// <summary>RAM held: this object and its arrays and sets.</summary>
    public long RamBytes => RamSize.Object((6 * RamSize.Reference) + 8) + RamSize.Array(4, Present.Length) + RamSize.Array(4, Deleted.Length)
        + RamSize.List(4, Changed.Capacity) + RamSize.HashSet(12, Remaining.Count);
}

using Flash.Ffs.Index;

namespace Flash.Ffs.Recovery;

/// <summary>Where a log head continues after mount.</summary>
/// <param name="Block">The block it fills, or -1 (it opens a new one on its first write).</param>
/// <param name="WritePointer">The next page in that block.</param>
/// <param name="Inherited">Whether the block was being written before this mount (its pages are checked before each program).</param>
internal readonly record struct RecoveredHead(int Block, int WritePointer, bool Inherited);

/// <summary>
/// What <see cref="VolumeRecovery"/> rebuilt that the facade keeps: the counters, heads and checkpoint bookkeeping
/// it wires into its fields, and the mount report. The block table, the reservations and the index are components of
/// their own (<c>BlockPool</c>, <c>IndexMutator</c>) which recovery restored in place; nothing else outlives the mount.
/// </summary>
/// <param name="Clean">Whether nothing was written after the checkpoint (nothing was replayed).</param>
/// <param name="CheckpointSequence">The mounted checkpoint's sequence number.</param>
/// <param name="Sequence">The last sequence number used; the next page program takes the one after it.</param>
/// <param name="NextId">The next entry id.</param>
/// <param name="NextTxn">The next transaction id.</param>
/// <param name="Root">The root directory.</param>
/// <param name="Hot">Where the hot head continues.</param>
/// <param name="Cold">Where the cold head continues.</param>
/// <param name="CheckpointPages">The pages of the mounted checkpoint (released when the next one is current).</param>
/// <param name="AnchorCurrent">Which of the two anchor blocks holds the anchor found (0 or 1).</param>
/// <param name="AnchorWritePointer">The next page in that anchor block.</param>
/// <param name="BlocksSinceCheckpoint">Blocks written after the checkpoint (they wait for the next one to cover them).</param>
/// <param name="Report">What the mount found and left out.</param>
internal sealed record RecoveredVolume(
    bool Clean,
    ulong CheckpointSequence,
    ulong Sequence,
    uint NextId,
    uint NextTxn,
    Node Root,
    RecoveredHead Hot,
    RecoveredHead Cold,
    List<int> CheckpointPages,
    int AnchorCurrent,
    int AnchorWritePointer,
    int BlocksSinceCheckpoint,
    MountReport Report);

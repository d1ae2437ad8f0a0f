using System.IO.Hashing;
using Flash.Ffs.Index;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// The state of an incremental checkpoint being written: what it describes (S0, the entries and size taken then),
/// the blocks it fills and the ones it replaces, and how far it got. <see cref="CheckpointWriter"/> drives it.
/// </summary>
internal sealed class PendingCheckpoint(
    ulong sequence, uint endId, uint nodeCount, int size, List<int> targets, int[] oldBlocks, int[] retiringAtStart, int previousNext, int blocksAtStart, int chunk)
{
    /// <summary>S0: the sequence the checkpoint describes.</summary>
    public ulong Sequence { get; } = sequence;

    /// <summary>Entries with this id or above were created after S0.</summary>
    public uint EndId { get; } = endId;

    /// <summary>Entries it records.</summary>
    public uint NodeCount { get; } = nodeCount;

    /// <summary>Bytes of its body, taken at S0.</summary>
    public int Size { get; } = size;

    /// <summary>Blocks it fills.</summary>
    public List<int> Targets { get; } = targets;

    /// <summary>The previous checkpoint's blocks, recorded as free in this one and released when it commits.</summary>
    public int[] OldBlocks { get; } = oldBlocks;

    /// <summary>Blocks retiring at S0 (recorded as bad; marked so on the chip when it commits).</summary>
    public int[] RetiringAtStart { get; } = retiringAtStart;

    /// <summary>The block the previous checkpoint reserved for this one (restored if it is abandoned).</summary>
    public int PreviousNext { get; } = previousNext;

    /// <summary>Blocks filled since the previous checkpoint, at S0.</summary>
    public int BlocksAtStart { get; } = blocksAtStart;

    /// <summary>Pages programmed so far.</summary>
    public List<int> Written { get; } = [];

    /// <summary>The page being filled.</summary>
    public byte[] Page { get; } = new byte[chunk];

    /// <summary>Bytes in <see cref="Page"/>.</summary>
    public int Fill { get; set; }

    /// <summary>Bytes of the body emitted so far.</summary>
    public int Length { get; set; }

    /// <summary>CRC of the body emitted so far.</summary>
    public Crc32 Crc { get; } = new(Crc32ParameterSet.Crc32C);

    /// <summary>Entries with ids up to this one have had their turn.</summary>
    public uint Cursor { get; set; }

    /// <summary>Entries written ahead of their turn (copy-on-write).</summary>
    public HashSet<uint> Early { get; } = [];

    /// <summary>Entries emitted so far.</summary>
    public uint NodesWritten { get; set; }

    /// <summary>Whether a program or erase failed, or it outgrew its size: it is abandoned at the next step.</summary>
    public bool Failed { get; set; }

    /// <summary>The block whose program failed (retired when it is abandoned), or -1.</summary>
    public int FailedBlock { get; set; } = -1;

    /// <summary>
    /// RAM held: its state, one page buffer, the serialisation scratch, the block and page lists and the ids written
    /// ahead of their turn.
    /// </summary>
    public long RamBytes => RamSize.Object((12 * RamSize.Reference) + 64) + RamSize.Array(1, Page.Length) + RamSize.Array(1, 256)
        + RamSize.List(4, Targets.Capacity) + RamSize.List(4, Written.Capacity) + RamSize.HashSet(12, Early.Count)
        + RamSize.Array(4, OldBlocks.Length) + RamSize.Array(4, RetiringAtStart.Length) + (Delta?.RamBytes ?? 0);

    /// <summary>For a delta, what it records (null: a base).</summary>
    public DeltaPlan? Delta { get; init; }

    /// <summary>Whether <paramref name="node"/>, about to change, must be written first, as it was at S0 (and marks it written).</summary>
    /// <param name="node">The entry, unchanged yet.</param>
    /// <returns>Whether to write it now.</returns>
    public bool TakeEarly(Node node) => !Failed && (Delta is { } d ? d.Remaining.Remove(node.Id) : node.Id < EndId && node.Id > Cursor && Early.Add(node.Id));
}

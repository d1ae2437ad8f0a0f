using System.Collections.Immutable;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Format;

/// <summary>
/// A checkpoint body as decoded (docs/format.md, "Checkpoint"): values only, no live objects. Recovery turns it into
/// the block table, the heads and the index; nothing keeps it after mount.
/// </summary>
/// <param name="Version">Format version the body was written in (1 has no open-transaction list).</param>
/// <param name="Clean">Written at a clean unmount.</param>
/// <param name="Sequence">The sequence the checkpoint describes.</param>
/// <param name="NextId">The next entry id.</param>
/// <param name="NextTxn">The next transaction id.</param>
/// <param name="Hot">The hot log head.</param>
/// <param name="Cold">The cold log head.</param>
/// <param name="CheckpointNext">The block reserved for the next checkpoint, or -1.</param>
/// <param name="Blocks">Every block of the device, in order.</param>
/// <param name="OpenTransactions">Transactions open when it was taken (empty for version 1).</param>
/// <param name="Entries">The entries, in the order written (by id, except those an incremental checkpoint wrote early).</param>
internal sealed record CheckpointImage(
    ushort Version,
    bool Clean,
    ulong Sequence,
    uint NextId,
    uint NextTxn,
    CheckpointHead Hot,
    CheckpointHead Cold,
    int CheckpointNext,
    ImmutableArray<CheckpointBlock> Blocks,
    ImmutableArray<CheckpointOpenTxn> OpenTransactions,
    ImmutableArray<CheckpointEntry> Entries)
{
    /// <summary>
    /// When the image is a base with a delta applied (format 5), the base's pages, in order (they stay claimed while
    /// the delta is current); empty when the anchor names a base.
    /// </summary>
    public ImmutableArray<int> BasePages { get; init; } = [];
}

/// <summary>A log head as a checkpoint records it.</summary>
/// <param name="Block">The block it writes, or -1.</param>
/// <param name="WritePointer">The next page in that block (0 to pages a block).</param>
/// <param name="ReservedNext">The block reserved to follow it, or -1.</param>
internal readonly record struct CheckpointHead(int Block, int WritePointer, int ReservedNext);

/// <summary>One block as a checkpoint records it.</summary>
/// <param name="State">Its state (never <see cref="BlockState.Retiring"/>: that is recorded as bad).</param>
/// <param name="Erased">Known to be erased.</param>
/// <param name="EraseCount">Erases so far.</param>
/// <param name="FirstSequence">Sequence of its first page.</param>
internal readonly record struct CheckpointBlock(BlockState State, bool Erased, uint EraseCount, ulong FirstSequence);

/// <summary>A transaction open when the checkpoint was taken, and the blocks holding its pages.</summary>
/// <param name="Id">The transaction id.</param>
/// <param name="Blocks">The blocks, in the order it first wrote them.</param>
internal sealed record CheckpointOpenTxn(uint Id, ImmutableArray<int> Blocks);

/// <summary>One extent of a chunked file: <paramref name="Count"/> chunks from <paramref name="Logical"/> in consecutive pages from <paramref name="Page"/>.</summary>
/// <param name="Logical">The first chunk.</param>
/// <param name="Page">The page holding it.</param>
/// <param name="Count">Chunks in the run.</param>
internal readonly record struct CheckpointExtent(uint Logical, int Page, int Count);

/// <summary>One entry of a checkpoint.</summary>
/// <param name="Id">Its id (never 0).</param>
/// <param name="Parent">Its directory's id.</param>
/// <param name="IsDirectory">A directory rather than a file.</param>
/// <param name="Name">Its name as stored (UTF-8, at most 255 bytes; not checked to be valid).</param>
/// <param name="Size">Its size in bytes (not negative).</param>
/// <param name="ModificationSequence">Sequence of its last committed change.</param>
/// <param name="InlinePage">The metadata page holding its inline data, or -1.</param>
/// <param name="InlineOffset">The inline data's offset in that page.</param>
/// <param name="Extents">Its chunk map; default (<see cref="ImmutableArray{T}.IsDefault"/>) when it has none.</param>
/// <param name="Lost">Chunks whose only copy was unreadable, ascending (version 3; empty for none): they read as corrupt.</param>
internal sealed record CheckpointEntry(
    uint Id,
    uint Parent,
    bool IsDirectory,
    ImmutableArray<byte> Name,
    long Size,
    ulong ModificationSequence,
    int InlinePage,
    int InlineOffset,
    ImmutableArray<CheckpointExtent> Extents,
    ImmutableArray<uint> Lost)
{
    /// <summary>Whether the data is inline in a metadata page.</summary>
    public bool IsInline => InlinePage >= 0;

    /// <summary>Whether the entry has a chunk map (perhaps empty).</summary>
    public bool IsChunked => !Extents.IsDefault;
}

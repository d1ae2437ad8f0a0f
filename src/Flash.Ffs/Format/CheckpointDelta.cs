using System.Collections.Immutable;

namespace Flash.Ffs.Format;

/// <summary>
/// A delta checkpoint body as decoded (format 5, docs/format.md "Delta checkpoints"): what changed since its base,
/// cumulatively (relative to the base, never to an earlier delta), so a mount reads at most two bodies.
/// <see cref="Apply"/> turns base and delta into the one <see cref="CheckpointImage"/> the rest of mount consumes.
/// </summary>
/// <param name="Header">Its header (its own sequence, heads, id counters, next checkpoint block).</param>
/// <param name="BlockCount">Blocks of the device.</param>
/// <param name="Base">The base it applies to.</param>
/// <param name="ChangedBlocks">Block-table entries that differ from the base's (and possibly some equal to it: harmless), by block ascending.</param>
/// <param name="OpenTransactions">Transactions open at its sequence (the whole list).</param>
/// <param name="Entries">Entries created or changed since the base, whole.</param>
/// <param name="Deleted">Ids of entries deleted since the base, ascending (an id the base lacks is allowed: created and deleted since).</param>
/// <param name="Patches">Files changed since the base recorded as entry patches (their base entry's extents with chunk runs replaced).</param>
internal sealed record CheckpointDelta(
    CheckpointHeader Header,
    int BlockCount,
    CheckpointBaseRef Base,
    ImmutableArray<(int Block, CheckpointBlock Entry)> ChangedBlocks,
    ImmutableArray<CheckpointOpenTxn> OpenTransactions,
    ImmutableArray<CheckpointEntry> Entries,
    ImmutableArray<uint> Deleted,
    ImmutableArray<CheckpointEntryPatch> Patches = default)
{
    /// <summary>The patches (empty rather than default).</summary>
    public ImmutableArray<CheckpointEntryPatch> PatchList => Patches.IsDefault ? [] : Patches;

    /// <summary>The base's pages: its blocks from their first page, in order.</summary>
    /// <param name="pagesPerBlock">Pages a block.</param>
    /// <returns>The pages.</returns>
    public List<int> BasePages(int pagesPerBlock)
    {
        var pages = new List<int>(Base.PageCount);
        for (int i = 0; i < Base.PageCount; i++)
        {
            pages.Add((Base.Blocks[i / pagesPerBlock] * pagesPerBlock) + (i % pagesPerBlock));
        }

        return pages;
    }

    /// <summary>The volume as of this delta: <paramref name="baseImage"/> with its changes applied.</summary>
    /// <param name="baseImage">The base, decoded.</param>
    /// <returns>The image (version <see cref="CheckpointCodec.Version"/>, entries by id).</returns>
    /// <exception cref="FileSystemCorruptException">The base is not the one the delta names, or a patch's base entry is missing or not a chunked file.</exception>
    public CheckpointImage Apply(CheckpointImage baseImage)
    {
        if (baseImage.Sequence != Base.Sequence || baseImage.Blocks.Length != BlockCount)
        {
            throw new FileSystemCorruptException($"The delta checkpoint's base has sequence {baseImage.Sequence}, not {Base.Sequence}.");
        }

        var blocks = baseImage.Blocks.ToBuilder();
        foreach (var (block, entry) in ChangedBlocks)
        {
            blocks[block] = entry;
        }

        var replaced = new HashSet<uint>(Deleted);
        foreach (var e in Entries)
        {
            replaced.Add(e.Id);
        }

        Dictionary<uint, CheckpointEntryPatch>? patches = null;
        foreach (var p in PatchList)
        {
            (patches ??= []).Add(p.Id, p);
        }

        var entries = new List<CheckpointEntry>(baseImage.Entries.Length + Entries.Length);
        foreach (var e in baseImage.Entries)
        {
            if (patches is not null && patches.Remove(e.Id, out var patch))
            {
                entries.Add(patch.ApplyTo(e));
            }
            else if (!replaced.Contains(e.Id))
            {
                entries.Add(e);
            }
        }

        if (patches is { Count: > 0 })
        {
            // A patch whose base entry is missing.
            _ = patches.Values.First().ApplyTo(null);
        }

        entries.AddRange(Entries);
        entries.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        var h = Header;
        return new CheckpointImage(CheckpointCodec.Version, h.Clean, h.Sequence, h.NextId, h.NextTxn, h.Hot, h.Cold, h.CheckpointNext, blocks.MoveToImmutable(), OpenTransactions, [.. entries]);
    }
}

/// <summary>A delta's reference to its base: enough to read and check it without the anchor that once named it.</summary>
/// <param name="Sequence">The base's sequence.</param>
/// <param name="Length">Bytes of its body.</param>
/// <param name="Crc">Its CRC-32C.</param>
/// <param name="PageCount">Pages it fills.</param>
/// <param name="Blocks">The blocks it fills, in order (its pages run from the start of each).</param>
internal sealed record CheckpointBaseRef(ulong Sequence, int Length, uint Crc, int PageCount, ImmutableArray<int> Blocks);

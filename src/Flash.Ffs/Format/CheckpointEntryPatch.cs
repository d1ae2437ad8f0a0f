using System.Collections.Immutable;

namespace Flash.Ffs.Format;

/// <summary>
/// A delta's entry patch (format 5, docs/format.md "Delta checkpoints"): a file whose base entry exists and whose
/// metadata other than size and modification sequence did not change since the base, recorded as the chunk runs whose
/// mapping changed instead of its whole extent list. Its lost-chunk list is empty (an entry with lost chunks is written
/// whole).
/// </summary>
/// <param name="Id">The file's id.</param>
/// <param name="Size">Its size now.</param>
/// <param name="ModificationSequence">Sequence of its last committed change.</param>
/// <param name="Runs">Chunk runs whose mapping changed, ascending and disjoint: page -1 for chunks now unmapped.</param>
internal sealed record CheckpointEntryPatch(uint Id, long Size, ulong ModificationSequence, ImmutableArray<CheckpointExtent> Runs)
{
    /// <summary>The marker in a record's second field (a whole entry's parent id) that makes it a patch.</summary>
    public const uint Marker = 0xFFFF_FFFF;

    /// <summary>Bytes of a patch without its runs: id, marker, size, modification sequence, run count.</summary>
    public const int FixedSize = 28;

    /// <summary>Bytes of one run: first chunk, first page (or -1), count.</summary>
    public const int RunSize = 12;

    /// <summary>Bytes of a patch of <paramref name="runs"/> runs.</summary>
    /// <param name="runs">Runs.</param>
    /// <returns>The size.</returns>
    public static int SizeOf(int runs) => FixedSize + (RunSize * runs);

    /// <summary>Whether a file goes into a delta as a patch (smaller than its whole entry) rather than whole.</summary>
    /// <param name="patchable">Whether a patch can describe it (base entry a chunked file, name, place and kind unchanged, no lost chunks).</param>
    /// <param name="patchRuns">Runs its patch would list.</param>
    /// <param name="wholeBytes">Bytes of its whole entry.</param>
    /// <returns>True for a patch.</returns>
    public static bool Choose(bool patchable, int patchRuns, int wholeBytes) => patchable && SizeOf(patchRuns) < wholeBytes;

    /// <summary>The entry this patch makes of its base entry.</summary>
    /// <param name="baseEntry">The base's entry of the same id (or null when the base has none).</param>
    /// <returns>The entry: the base's name, place and kind, this size and sequence, the base's extents with the runs applied (merged), no lost chunks.</returns>
    /// <exception cref="FileSystemCorruptException">The base has no such entry, or not a chunked file.</exception>
    public CheckpointEntry ApplyTo(CheckpointEntry? baseEntry)
    {
        if (baseEntry is null || baseEntry.Id != Id || baseEntry.IsDirectory || baseEntry.IsInline || !baseEntry.IsChunked)
        {
            throw new FileSystemCorruptException($"The delta checkpoint patches entry {Id}, which its base does not have as a chunked file.");
        }

        var result = new List<CheckpointExtent>(baseEntry.Extents.Length + Runs.Length);
        int k = 0;
        foreach (var e in baseEntry.Extents)
        {
            uint at = e.Logical;
            uint end = e.Logical + (uint)e.Count;
            while (at < end)
            {
                // Runs wholly before the rest of this extent go in first.
                while (k < Runs.Length && Runs[k].Logical + (uint)Runs[k].Count <= at)
                {
                    AddRun(result, Runs[k++]);
                }

                if (k < Runs.Length && Runs[k].Logical <= at)
                {
                    // Covered by run k: skip to its end (the run itself goes in once passed).
                    at = Math.Min(end, Runs[k].Logical + (uint)Runs[k].Count);
                    continue;
                }

                uint stop = k < Runs.Length ? Math.Min(end, Runs[k].Logical) : end;
                Add(result, new CheckpointExtent(at, e.Page + (int)(at - e.Logical), (int)(stop - at)));
                at = stop;
            }
        }

        while (k < Runs.Length)
        {
            AddRun(result, Runs[k++]);
        }

        return baseEntry with { Size = Size, ModificationSequence = ModificationSequence, Extents = [.. result], Lost = [] };
    }

    private static void AddRun(List<CheckpointExtent> list, CheckpointExtent run)
    {
        if (run.Page >= 0)
        {
            Add(list, run);
        }
    }

    /// <summary>Appends an extent, merging it with the last where chunks and pages both continue.</summary>
    private static void Add(List<CheckpointExtent> list, CheckpointExtent x)
    {
        if (list.Count > 0 && list[^1] is var l && l.Logical + (uint)l.Count == x.Logical && l.Page + l.Count == x.Page)
        {
            list[^1] = l with { Count = l.Count + x.Count };
        }
        else
        {
            list.Add(x);
        }
    }
}

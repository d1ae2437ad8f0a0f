#if DEBUG
using System.Buffers.Binary;
#endif
using System.Runtime.InteropServices;
using Flash.Ffs.Blocks;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// What a checkpoint records, read from the live components and written with <see cref="CheckpointCodec"/> (the one
/// layout definition). Nothing here changes state; decoding is the codec's, restoring the components Recovery's.
/// </summary>
internal sealed class CheckpointSource(
    BlockTable blocks, BlockReservations reservations, NodeTable nodes, LostChunks lost, Head hot, Head cold, Dictionary<uint, PendingTxn> openTxns, IdCounters ids, int chunkSize)
{
    /// <summary>The entries in the index.</summary>
    public NodeTable Nodes => nodes;

    /// <summary>Serialises the whole checkpoint body.</summary>
    /// <param name="w">Where to write.</param>
    /// <param name="checkpointSeq">The sequence it describes.</param>
    /// <param name="clean">Whether it is an unmount's (nothing written after it).</param>
    /// <param name="views">Files with uncommitted writes as committed (null: left out).</param>
    public void Serialize(ref LittleEndianWriter w, ulong checkpointSeq, bool clean, Dictionary<uint, Node?> views)
    {
        SerializeHead(ref w, checkpointSeq, clean, [], views.Count(v => v.Value is null));
        foreach (var n in nodes.Values)
        {
            if (TryEntryFor(n, views, out var entry))
            {
                SerializeNode(ref w, entry!);
            }
        }
    }

    /// <summary>
    /// The checkpoint's fixed part: header, heads and block table. <paramref name="recordFree"/> lists blocks recorded
    /// as free (to erase) although RAM still holds them: the previous checkpoint's blocks while an incremental one is
    /// being written. <paramref name="leftOut"/> entries (files created by handles not yet flushed) are not counted.
    /// </summary>
    /// <param name="w">Where to write.</param>
    /// <param name="checkpointSeq">The sequence it describes.</param>
    /// <param name="clean">Whether it is an unmount's.</param>
    /// <param name="recordFree">Blocks to record as free.</param>
    /// <param name="leftOut">Entries left out of the count.</param>
    public void SerializeHead(ref LittleEndianWriter w, ulong checkpointSeq, bool clean, int[] recordFree, int leftOut)
    {
        var header = new CheckpointHeader(clean, checkpointSeq, ids.NextEntry, ids.NextTxn, HeadOf(hot), HeadOf(cold), reservations.Checkpoint);
        CheckpointCodec.WriteHeader(ref w, header, blocks.Count, (uint)(nodes.Count - leftOut));
        for (int b = 0; b < blocks.Count; b++)
        {
            CheckpointCodec.WriteBlock(ref w, RecordedBlock(b, recordFree));
        }

        WriteOpenTxns(ref w);
    }

    /// <summary>
    /// A delta's fixed part (format 5): header (kind delta), the reference to its base, the block-table entries that
    /// differ from the base's (<paramref name="changedBlocks"/>, as <see cref="ChangedBlocks"/> found them: a superset of those that differ) and the
    /// open-transaction list.
    /// </summary>
    /// <param name="w">Where to write.</param>
    /// <param name="checkpointSeq">The sequence it describes.</param>
    /// <param name="clean">Whether it is an unmount's.</param>
    /// <param name="recordFree">Blocks to record as free.</param>
    /// <param name="baseRef">The base.</param>
    /// <param name="changedBlocks">Blocks whose recorded entry differs from the base's, ascending.</param>
    /// <param name="entryCount">Entries that follow.</param>
    public void SerializeDeltaHead(ref LittleEndianWriter w, ulong checkpointSeq, bool clean, int[] recordFree, CheckpointBaseRef baseRef, List<int> changedBlocks, int entryCount)
    {
        var header = new CheckpointHeader(clean, checkpointSeq, ids.NextEntry, ids.NextTxn, HeadOf(hot), HeadOf(cold), reservations.Checkpoint);
        CheckpointCodec.WriteHeader(ref w, header, blocks.Count, (uint)entryCount, CheckpointCodec.Version, CheckpointCodec.KindDelta);
        CheckpointCodec.WriteBaseRef(ref w, baseRef);
        CheckpointCodec.WriteChangedBlockCount(ref w, changedBlocks.Count);
        foreach (int b in changedBlocks)
        {
            CheckpointCodec.WriteChangedBlock(ref w, b, RecordedBlock(b, recordFree));
        }

        WriteOpenTxns(ref w);
    }

    /// <summary>Bytes of a delta's fixed part (<see cref="SerializeDeltaHead"/>).</summary>
    /// <param name="baseBlocks">Blocks the base fills.</param>
    /// <param name="changedBlocks">Changed blocks listed.</param>
    /// <returns>The size in bytes.</returns>
    public int DeltaHeadSize(int baseBlocks, int changedBlocks) => CheckpointCodec.DeltaHeadSize(baseBlocks, changedBlocks, OpenTxnBytes());

    /// <summary>
    /// The entries a base records for the blocks of <paramref name="recordFree"/> (free, although RAM holds them),
    /// kept while the base is current: a delta compares those blocks exactly, as their dirty bits cannot tell.
    /// </summary>
    /// <param name="recordFree">Blocks to record as free.</param>
    /// <returns>The blocks and their recorded entries.</returns>
    public (int Block, CheckpointBlock Entry)[] RecordedFree(int[] recordFree)
    {
        var entries = new (int Block, CheckpointBlock Entry)[recordFree.Length];
        for (int i = 0; i < recordFree.Length; i++)
        {
            entries[i] = (recordFree[i], RecordedBlock(recordFree[i], recordFree));
        }

        return entries;
    }

    /// <summary>
    /// Fills <paramref name="changed"/> with the blocks a delta over the base must list: those whose recorded entry
    /// may differ from the base's. A block whose recorded fields did not change since the base's S0 (its bit in
    /// <paramref name="dirty"/> is clear) records what the base recorded, unless either records it as free although
    /// RAM holds it: the base's such blocks (<paramref name="baseFree"/>) are compared with the entries the base
    /// recorded, this delta's (<paramref name="recordFree"/>) with what the base recorded for an unchanged block.
    /// O(set bits + words + recorded-free blocks), no allocation once <paramref name="changed"/> is large enough.
    /// </summary>
    /// <param name="dirty">Blocks whose recorded fields changed since the base's S0.</param>
    /// <param name="baseFree">The blocks the base recorded as free although RAM held them, with their entries.</param>
    /// <param name="recordFree">Blocks this delta records as free.</param>
    /// <param name="changed">Receives the blocks, ascending.</param>
    public void ChangedBlocks(DirtyBlocks dirty, ReadOnlySpan<(int Block, CheckpointBlock Entry)> baseFree, int[] recordFree, List<int> changed)
    {
        changed.Clear();
        dirty.AppendSet(changed);
        bool unordered = false;
        if (!baseFree.IsEmpty)
        {
            // Decided exactly below, whatever their bits say (releasing them at the base's commit sets them).
            int kept = 0;
            for (int i = 0; i < changed.Count; i++)
            {
                if (IndexOf(baseFree, changed[i]) < 0)
                {
                    changed[kept++] = changed[i];
                }
            }

            changed.RemoveRange(kept, changed.Count - kept);
            foreach (var (b, entry) in baseFree)
            {
                if (RecordedBlock(b, recordFree) != entry)
                {
                    changed.Add(b);
                    unordered = true;
                }
            }
        }

        foreach (int b in recordFree)
        {
            if (!dirty[b] && IndexOf(baseFree, b) < 0 && RecordedBlock(b, recordFree) != RecordedBlock(b, []))
            {
                changed.Add(b);
                unordered = true;
            }
        }

        if (unordered)
        {
            changed.Sort();
        }
    }

#if DEBUG
    /// <summary>Debug builds only: the block table as a base records it, 14 bytes a block (to check <see cref="ChangedBlocks"/>).</summary>
    /// <param name="recordFree">Blocks to record as free.</param>
    /// <returns>The encoded table.</returns>
    public byte[] RecordedTable(int[] recordFree)
    {
        var table = new byte[blocks.Count * CheckpointCodec.BlockSize];
        var w = new LittleEndianWriter(table);
        for (int b = 0; b < blocks.Count; b++)
        {
            CheckpointCodec.WriteBlock(ref w, RecordedBlock(b, recordFree));
        }

        return table;
    }

    /// <summary>
    /// Debug builds only: throws unless <paramref name="changed"/> (from <see cref="ChangedBlocks"/>) holds every block
    /// whose entry, as recorded now, differs from <paramref name="baseTable"/>'s (what the delta format needs listed).
    /// </summary>
    /// <param name="baseTable">The base's table (<see cref="RecordedTable"/>).</param>
    /// <param name="recordFree">Blocks to record as free.</param>
    /// <param name="changed">The blocks listed, ascending.</param>
    public void CheckChangedBlocks(byte[] baseTable, int[] recordFree, List<int> changed)
    {
        var table = baseTable.AsSpan();
        for (int b = 0, o = 0; b < blocks.Count; b++, o += CheckpointCodec.BlockSize)
        {
            var e = RecordedBlock(b, recordFree);
            if ((table[o] != (byte)e.State || table[o + 1] != (e.Erased ? 1 : 0)
                || BinaryPrimitives.ReadUInt32LittleEndian(table[(o + 2)..]) != e.EraseCount
                || BinaryPrimitives.ReadUInt64LittleEndian(table[(o + 6)..]) != e.FirstSequence)
                && changed.BinarySearch(b) < 0)
            {
                throw new InvalidOperationException($"Delta checkpoint misses changed block {b} ({e}): a recorded field changed without the dirty bitmap.");
            }
        }

        for (int i = 1; i < changed.Count; i++)
        {
            if (changed[i] <= changed[i - 1])
            {
                throw new InvalidOperationException($"Delta checkpoint's changed blocks are not ascending at {changed[i]}.");
            }
        }
    }
#endif

    private static int IndexOf(ReadOnlySpan<(int Block, CheckpointBlock Entry)> entries, int block)
    {
        for (int i = 0; i < entries.Length; i++)
        {
            if (entries[i].Block == block)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Bytes of the entry a checkpoint records for entry <paramref name="id"/> (its committed view if it has one), or -1 when it records none.</summary>
    /// <param name="id">The entry id.</param>
    /// <param name="views">Files with uncommitted writes as committed.</param>
    /// <returns>The size, or -1.</returns>
    public int RecordedEntrySize(uint id, Dictionary<uint, Node?> views)
    {
        if (views.TryGetValue(id, out var view))
        {
            return view is null ? -1 : EntrySize(view);
        }

        return nodes.TryGetValue(id, out var n) ? EntrySize(n) : -1;
    }

    /// <summary>
    /// Bytes of what a delta records for entry <paramref name="id"/>: its entry patch when it can have one and it is
    /// smaller than the whole entry (<see cref="CheckpointEntryPatch.Choose"/>), else its whole entry; -1 when it records none.
    /// </summary>
    /// <param name="id">The entry id.</param>
    /// <param name="views">Files with uncommitted writes as committed (always written whole).</param>
    /// <param name="changes">Its changes since the base (null: size or modification sequence only).</param>
    /// <returns>The size, or -1.</returns>
    public int DeltaEntrySize(uint id, Dictionary<uint, Node?> views, ChangedChunks? changes)
    {
        var n = RecordedEntry(id, views);
        if (n is null)
        {
            return -1;
        }

        int whole = EntrySize(n);
        int runs = views.ContainsKey(id) ? -1 : PatchRuns(n, changes);
        return CheckpointEntryPatch.Choose(runs >= 0, runs, whole) ? CheckpointEntryPatch.SizeOf(runs) : whole;
    }

    /// <summary>Writes what a delta records for <paramref name="n"/> (a live node, not a committed view): its patch or its whole entry, as <see cref="DeltaEntrySize"/> chose.</summary>
    /// <param name="w">Where to write.</param>
    /// <param name="n">The entry.</param>
    /// <param name="isView">Whether it is a committed view (written whole).</param>
    /// <param name="changes">Its changes since the base.</param>
    /// <returns>Whether it wrote a patch.</returns>
    public bool SerializeDeltaEntry(ref LittleEndianWriter w, Node n, bool isView, ChangedChunks? changes)
    {
        int runs = isView ? -1 : PatchRuns(n, changes);
        if (!CheckpointEntryPatch.Choose(runs >= 0, runs, EntrySize(n)))
        {
            SerializeNode(ref w, n);
            return false;
        }

        CheckpointCodec.WritePatchStart(ref w, n.Id, n.Size, n.ModificationSequence, runs);
        if (changes is not null)
        {
            Runs(n.Chunks!, changes, ref w, write: true);
        }

        return true;
    }

    /// <summary>Runs an entry patch of <paramref name="n"/> lists, or -1 when it can have none (not a chunked file, reshaped since the base, lost chunks).</summary>
    private int PatchRuns(Node n, ChangedChunks? changes)
    {
        if (n.IsDirectory || n.IsInline || n.Chunks is not { } map || changes is { Whole: true } || LostCount(n) > 0)
        {
            return -1;
        }

        if (changes is null)
        {
            return 0;
        }

        var none = default(LittleEndianWriter);
        return Runs(map, changes, ref none, write: false);
    }

    /// <summary>Counts (and with <paramref name="write"/> writes) the runs of the current mapping over the changed chunks: consecutive chunks in consecutive pages, or unmapped (-1).</summary>
    private static int Runs(ChunkMap map, ChangedChunks changes, ref LittleEndianWriter w, bool write)
    {
        int runs = 0;
        foreach (var (first, end) in changes.Runs)
        {
            uint c = first;
            while (c < end)
            {
                int page = map.Get(c);
                uint k = c + 1;
                while (k < end && map.Get(k) == (page < 0 ? -1 : page + (int)(k - c)))
                {
                    k++;
                }

                if (write)
                {
                    CheckpointCodec.WriteExtent(ref w, c, page, (int)(k - c));
                }

                runs++;
                c = k;
            }
        }

        return runs;
    }

    /// <summary>The entry a checkpoint records for id <paramref name="id"/>: its committed view, the live node, or null (none).</summary>
    /// <param name="id">The entry id.</param>
    /// <param name="views">Files with uncommitted writes as committed.</param>
    /// <returns>The entry, or null.</returns>
    public Node? RecordedEntry(uint id, Dictionary<uint, Node?> views)
        => views.TryGetValue(id, out var view) ? view : nodes.TryGetValue(id, out var n) ? n : null;

    private CheckpointBlock RecordedBlock(int b, int[] recordFree)
    {
        bool free = Array.IndexOf(recordFree, b) >= 0;
        var state = free ? BlockState.Free : blocks.State[b] == BlockState.Retiring ? BlockState.Bad : blocks.State[b];
        return new CheckpointBlock(state, blocks.Erased[b] && !free, blocks.EraseCount[b], blocks.FirstSequence[b]);
    }

    private void WriteOpenTxns(ref LittleEndianWriter w)
    {
        CheckpointCodec.WriteOpenTxnCount(ref w, openTxns.Count);
        foreach (var t in openTxns.Values)
        {
            CheckpointCodec.WriteOpenTxn(ref w, t.Id, CollectionsMarshal.AsSpan(t.Blocks));
        }
    }

    private int OpenTxnBytes()
    {
        int txnBlocks = 0;
        foreach (var t in openTxns.Values)
        {
            txnBlocks += t.Blocks.Count;
        }

        return CheckpointCodec.OpenTxnListSize(openTxns.Count, txnBlocks);
    }

    private static CheckpointHead HeadOf(Head h) => new(h.Block, h.WritePointer, h.ReservedNext);

    /// <summary>One entry of the checkpoint (see docs/format.md, "Checkpoint"), with its lost chunks (version 3).</summary>
    /// <param name="w">Where to write.</param>
    /// <param name="n">The entry.</param>
    public void SerializeNode(ref LittleEndianWriter w, Node n)
    {
        int lostCount = LostCount(n);
        CheckpointCodec.WriteEntryStart(ref w, n.Id, n.ParentId, n.IsDirectory, n.NameUtf8, n.Size, n.ModificationSequence);
        if (n.IsInline)
        {
            CheckpointCodec.WriteInline(ref w, n.InlinePage, n.InlineOffset);
        }
        else if (n.Chunks is { } map)
        {
            CheckpointCodec.WriteExtentCount(ref w, map.ExtentCount, lostCount > 0);
            foreach (var e in map.Extents)
            {
                CheckpointCodec.WriteExtent(ref w, e.Logical, e.Page, e.Count);
            }
        }
        else
        {
            CheckpointCodec.WriteNoData(ref w, lostCount > 0);
        }

        if (lostCount > 0)
        {
            CheckpointCodec.WriteLostCount(ref w, lostCount);
            foreach (uint chunk in MarksOf(n))
            {
                if (Records(n, chunk))
                {
                    w.U32(chunk);
                }
            }
        }
    }

    /// <summary>Exact size of the serialised checkpoint body, with files that have uncommitted writes as <paramref name="views"/> says.</summary>
    /// <param name="views">Files with uncommitted writes as committed.</param>
    /// <returns>The size in bytes.</returns>
    public int Size(Dictionary<uint, Node?> views)
    {
        int size = HeadSize();
        foreach (var n in nodes.Values)
        {
            size += EntrySize(n);
        }

        foreach (var (id, view) in views)
        {
            size += (view is null ? 0 : EntrySize(view)) - EntrySize(nodes[id]);
        }

        return size;
    }

    /// <summary>Bytes of the fixed part: header, heads, block table and open-transaction list.</summary>
    /// <returns>The size in bytes.</returns>
    public int HeadSize() => CheckpointCodec.HeadSize(blocks.Count, OpenTxnBytes());

    /// <summary>Bytes of one checkpoint entry.</summary>
    private int EntrySize(Node n) => CheckpointCodec.EntrySize(n.NameUtf8.Length, n.IsInline, n.Chunks is { } m ? m.ExtentCount : -1, LostCount(n));

    /// <summary>How many of the entry's lost chunks its checkpoint entry lists.</summary>
    private int LostCount(Node n)
    {
        // A committed view may have marks the index no longer has (MarksOf), so only a live node may stop at an empty set.
        if (n.IsDirectory || n.IsInline || (lost.Count == 0 && openTxns.Count == 0))
        {
            return 0;
        }

        int count = 0;
        foreach (uint chunk in MarksOf(n))
        {
            if (Records(n, chunk))
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>
    /// The lost marks of entry <paramref name="n"/>, ascending. A committed view of a file with an open handle (not the
    /// index's own node) also has the marks the file had when the handle first changed it: the handle may have
    /// forgotten them (a truncation below them), but the checkpoint records the file as before the handle.
    /// </summary>
    private ReadOnlySpan<uint> MarksOf(Node n)
    {
        var marks = lost.Of(n.Id);
        if (nodes.TryGetValue(n.Id, out var live) && ReferenceEquals(live, n))
        {
            return marks;
        }

        foreach (var t in openTxns.Values)
        {
            if (t.Node?.Id == n.Id && t.CommittedLost is { } committed)
            {
                var merged = new SortedSet<uint>(committed);
                foreach (uint chunk in marks)
                {
                    merged.Add(chunk);
                }

                return merged.ToArray();
            }
        }

        return marks;
    }

    /// <summary>
    /// Whether a lost mark is live and so recorded: the chunk is within the file and unmapped. A dormant mark (the chunk
    /// was written again) is left out, which is what makes it go at the next mount.
    /// </summary>
    private bool Records(Node n, uint chunk)
        => (long)chunk * chunkSize < n.Size && (n.Chunks is not { } map || map.Get(chunk) < 0);

    /// <summary>The entry a checkpoint records for <paramref name="n"/>: itself, its committed view, or nothing.</summary>
    private static bool TryEntryFor(Node n, Dictionary<uint, Node?> views, out Node? entry)
    {
        entry = views.TryGetValue(n.Id, out var view) ? view : n;
        return entry is not null;
    }
}

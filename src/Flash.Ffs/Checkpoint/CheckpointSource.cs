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
            bool free = Array.IndexOf(recordFree, b) >= 0;
            var state = free ? BlockState.Free : blocks.State[b] == BlockState.Retiring ? BlockState.Bad : blocks.State[b];
            CheckpointCodec.WriteBlock(ref w, new CheckpointBlock(state, blocks.Erased[b] && !free, blocks.EraseCount[b], blocks.FirstSequence[b]));
        }

        CheckpointCodec.WriteOpenTxnCount(ref w, openTxns.Count);
        foreach (var t in openTxns.Values)
        {
            CheckpointCodec.WriteOpenTxn(ref w, t.Id, CollectionsMarshal.AsSpan(t.Blocks));
        }
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
    public int HeadSize()
    {
        int txnBlocks = 0;
        foreach (var t in openTxns.Values)
        {
            txnBlocks += t.Blocks.Count;
        }

        return CheckpointCodec.HeadSize(blocks.Count, CheckpointCodec.OpenTxnListSize(openTxns.Count, txnBlocks));
    }

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

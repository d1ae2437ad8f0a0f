using System.Runtime.InteropServices;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Wear;

namespace Flash.Ffs;

/// <summary>
/// What a checkpoint records, read from the live components and written with <see cref="CheckpointCodec"/> (the one
/// layout definition). Nothing here changes state; decoding is the codec's, restoring the components Recovery's.
/// </summary>
public sealed partial class FlashFileSystem
{
    private void SerializeCheckpoint(ref LittleEndianWriter w, ulong checkpointSeq, bool clean, Dictionary<uint, Node?> views, int[]? recordFree = null)
    {
        SerializeHead(ref w, checkpointSeq, clean, recordFree ?? [], views.Count(v => v.Value is null));
        foreach (var n in _nodes.Values)
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
    private void SerializeHead(ref LittleEndianWriter w, ulong checkpointSeq, bool clean, int[] recordFree, int leftOut)
    {
        var header = new CheckpointHeader(clean, checkpointSeq, _nextId, _nextTxn, HeadOf(_hot), HeadOf(_cold), _pool.Reservations.Checkpoint);
        CheckpointCodec.WriteHeader(ref w, header, _blocks.Count, (uint)(_nodes.Count - leftOut));
        for (int b = 0; b < _blocks.Count; b++)
        {
            bool free = Array.IndexOf(recordFree, b) >= 0;
            var state = free ? BlockState.Free : _blocks.State[b] == BlockState.Retiring ? BlockState.Bad : _blocks.State[b];
            CheckpointCodec.WriteBlock(ref w, new CheckpointBlock(state, _blocks.Erased[b] && !free, _blocks.EraseCount[b], _blocks.FirstSequence[b]));
        }

        CheckpointCodec.WriteOpenTxnCount(ref w, _openTxns.Count);
        foreach (var t in _openTxns.Values)
        {
            CheckpointCodec.WriteOpenTxn(ref w, t.Id, CollectionsMarshal.AsSpan(t.Blocks));
        }
    }

    private static CheckpointHead HeadOf(Log.Head h) => new(h.Block, h.WritePointer, h.ReservedNext);

    /// <summary>One entry of the checkpoint (see docs/format.md, "Checkpoint").</summary>
    private static void SerializeNode(ref LittleEndianWriter w, Node n)
    {
        CheckpointCodec.WriteEntryStart(ref w, n.Id, n.ParentId, n.IsDirectory, n.NameUtf8, n.Size, n.ModificationSequence);
        if (n.IsInline)
        {
            CheckpointCodec.WriteInline(ref w, n.InlinePage, n.InlineOffset);
        }
        else if (n.Chunks is { } map)
        {
            CheckpointCodec.WriteExtentCount(ref w, map.ExtentCount);
            foreach (var e in map.Extents)
            {
                CheckpointCodec.WriteExtent(ref w, e.Logical, e.Page, e.Count);
            }
        }
        else
        {
            CheckpointCodec.WriteNoData(ref w);
        }
    }

    /// <summary>Bytes of one checkpoint entry.</summary>
    private static int EntrySize(Node n) => CheckpointCodec.EntrySize(n.NameUtf8.Length, n.IsInline, n.Chunks is { } m ? m.ExtentCount : -1);

    /// <summary>Bytes of the fixed part: header, heads, block table and open-transaction list.</summary>
    private int CheckpointHeadSize()
    {
        int blocks = 0;
        foreach (var t in _openTxns.Values)
        {
            blocks += t.Blocks.Count;
        }

        return CheckpointCodec.HeadSize(_blocks.Count, CheckpointCodec.OpenTxnListSize(_openTxns.Count, blocks));
    }
}

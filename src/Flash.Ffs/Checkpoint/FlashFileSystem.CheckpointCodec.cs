using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;

namespace Flash.Ffs;

/// <summary>The checkpoint body codec (docs/format.md, "Checkpoint"): serialising the index and block table, and loading them at mount.</summary>
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
        w.U32(CheckpointMagic);
        w.U16(FormatVersion);
        w.U16(clean ? (ushort)1 : (ushort)0);
        w.U64(checkpointSeq);
        w.U32(_nextId);
        w.U32(_nextTxn);
        w.U32((uint)_blocks.Count);
        w.U32((uint)(_nodes.Count - leftOut));
        foreach (var h in new[] { _hot, _cold })
        {
            w.I32(h.Block);
            w.I32(h.WritePointer);
            w.I32(h.ReservedNext);
        }

        w.I32(_pool.Reservations.Checkpoint);
        w.U32(0);
        for (int b = 0; b < _blocks.Count; b++)
        {
            bool free = Array.IndexOf(recordFree, b) >= 0;
            var state = free ? BlockState.Free : _blocks.State[b] == BlockState.Retiring ? BlockState.Bad : _blocks.State[b];
            w.U8((byte)state);
            w.U8(_blocks.Erased[b] && !free ? (byte)1 : (byte)0);
            w.U32(_blocks.EraseCount[b]);
            w.U64(_blocks.FirstSequence[b]);
        }

        SerializeOpenTxns(ref w);
    }

    /// <summary>One entry of the checkpoint (see docs/format.md, "Checkpoint").</summary>
    private static void SerializeNode(ref LittleEndianWriter w, Node n)
    {
        var name = n.NameUtf8;
        w.U32(n.Id);
        w.U32(n.ParentId);
        w.U8(n.IsDirectory ? (byte)2 : (byte)1);
        w.U8((byte)name.Length);
        w.Bytes(name);
        w.I64(n.Size);
        w.U64(n.ModificationSequence);
        if (n.IsInline)
        {
            w.U8(1);
            w.I32(n.InlinePage);
            w.U16((ushort)n.InlineOffset);
        }
        else if (n.Chunks is { } map)
        {
            w.U8(2);
            w.U32((uint)map.ExtentCount);
            foreach (var e in map.Extents)
            {
                w.U32(e.Logical);
                w.I32(e.Page);
                w.I32(e.Count);
            }
        }
        else
        {
            w.U8(0);
        }
    }

    /// <summary>Reads a checkpoint body into the (empty) in-RAM state. Returns whether it was written at a clean unmount.</summary>
    private bool DeserializeCheckpoint(ReadOnlySpan<byte> data)
    {
        var r = new LittleEndianReader(data, static () => new FileSystemCorruptException("The checkpoint ends before its declared content."));
        ushort version = 0;
        if (r.U32() != CheckpointMagic || (version = r.U16()) is < OldestFormatVersion or > FormatVersion)
        {
            throw new FileSystemCorruptException("The checkpoint has a wrong magic number or version.");
        }

        bool clean = r.U16() == 1;
        _checkpointSeq = r.U64();
        _seq = _checkpointSeq;
        _nextId = r.U32();
        _nextTxn = r.U32();
        if (r.U32() != (uint)_blocks.Count)
        {
            throw new FileSystemCorruptException("The checkpoint's block count does not match the device.");
        }

        uint nodeCount = r.U32();
        foreach (var h in new[] { _hot, _cold })
        {
            h.Block = CheckedBlock(r.I32(), allowNone: true);
            h.WritePointer = r.I32();
            h.ReservedNext = CheckedBlock(r.I32(), allowNone: true);
            if (h.WritePointer < 0 || h.WritePointer > _ppb)
            {
                throw new FileSystemCorruptException("A log head in the checkpoint points outside its block.");
            }
        }

        _pool.Reservations.Checkpoint = CheckedBlock(r.I32(), allowNone: true);
        r.U32();
        for (int b = 0; b < _blocks.Count; b++)
        {
            byte state = r.U8();
            if (state > (byte)BlockState.Retiring)
            {
                throw new FileSystemCorruptException($"Block {b} has an unknown state {state} in the checkpoint.");
            }

            _blocks.State.Restore(b, (BlockState)state);
            _blocks.Erased[b] = r.U8() == 1;
            _blocks.EraseCount[b] = r.U32();
            _blocks.FirstSequence[b] = r.U64();
            _blocks.LastSequence[b] = Math.Min(_blocks.FirstSequence[b], _checkpointSeq);
        }

        if (version >= 2)
        {
            DeserializeOpenTxns(ref r);
        }

        for (uint i = 0; i < nodeCount; i++)
        {
            uint id = r.U32();
            uint parent = r.U32();
            byte kind = r.U8();
            int nameLength = r.U8();
            var name = Node.NormalizeName(r.Bytes(nameLength));
            if (kind is not (1 or 2) || id == 0)
            {
                throw new FileSystemCorruptException($"Entry {id} in the checkpoint is malformed or duplicated.");
            }

            var node = new Node(id, parent, name, kind == 2) { Size = r.I64(), ModificationSequence = r.U64() };
            if (node.Size < 0)
            {
                throw new FileSystemCorruptException($"Entry {id} has a negative size.");
            }

            switch (r.U8())
            {
                case 0:
                    break;
                case 1:
                    node.InlinePage = CheckedPage(r.I32());
                    node.InlineOffset = r.U16();
                    break;
                case 2:
                    uint extents = r.U32();
                    if (extents > (uint)_g.PageCount)
                    {
                        throw new FileSystemCorruptException($"Entry {id} claims {extents} extents.");
                    }

                    node.Chunks = new ChunkMap();
                    for (uint k = 0; k < extents; k++)
                    {
                        uint logical = r.U32();
                        int page = CheckedPage(r.I32());
                        int count = r.I32();
                        if (count <= 0 || (long)page + count > _g.PageCount)
                        {
                            throw new FileSystemCorruptException($"Entry {id} has an extent outside the device.");
                        }

                        node.Chunks.Add(new Extent(logical, page, count));
                    }

                    break;
                default:
                    throw new FileSystemCorruptException($"Entry {id} has an unknown data kind.");
            }

            _nodes.AppendUnordered(node);
        }

        if (r.Remaining != 0)
        {
            throw new FileSystemCorruptException("The checkpoint has trailing bytes.");
        }

        // Checkpoints list entries by id, so this is a check; older ones (hash-table order) are sorted once here.
        if (_nodes.Seal() is { } duplicate)
        {
            throw new FileSystemCorruptException($"Entry {duplicate.Id} in the checkpoint is malformed or duplicated.");
        }

        if (!_nodes.TryGetValue(RootId, out var root) || !root.IsDirectory)
        {
            throw new FileSystemCorruptException("The checkpoint has no root directory.");
        }

        _root = root;
        foreach (var n in _nodes.Values)
        {
            if (n.Id == RootId)
            {
                continue;
            }

            if (!_nodes.TryGetValue(n.ParentId, out var parent) || !parent.IsDirectory)
            {
                throw new FileSystemCorruptException($"Entry {n.Id} ('{n.Name}') has no valid parent directory.");
            }

            parent.Children!.AppendUnordered(n);
        }

        foreach (var n in _nodes.Values)
        {
            if (n.Children?.Seal() is { } clash)
            {
                throw new FileSystemCorruptException($"Entry {clash.Id} ('{clash.Name}') has no valid parent directory.");
            }
        }

        return clean;
    }

    private int CheckedBlock(int block, bool allowNone)
    {
        if ((allowNone && block == -1) || (block >= 0 && block < _g.BlockCount))
        {
            return block;
        }

        throw new FileSystemCorruptException($"The checkpoint names block {block}, which does not exist.");
    }

    private int CheckedPage(int page)
    {
        if (page >= 0 && page < _g.PageCount)
        {
            return page;
        }

        throw new FileSystemCorruptException($"The checkpoint names page {page}, which does not exist.");
    }
}

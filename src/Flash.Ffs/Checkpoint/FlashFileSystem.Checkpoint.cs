using Flash.Ffs.Format;
using System.Text;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>
/// Checkpoints and anchors. A checkpoint is the whole index (block table, heads, every entry with its extents)
/// written to fresh blocks; an anchor page in one of two anchor blocks then points at it. The anchor append is the
/// commit point: a power cut before it leaves the previous checkpoint current and its blocks untouched.
/// </summary>
public sealed partial class FlashFileSystem
{
    private const uint CheckpointMagic = 0x54504B43; // "CKPT"
    /// <summary>The format version written; 2 added the open-transaction list to the checkpoint.</summary>
    private const ushort FormatVersion = 2;

    /// <summary>The oldest format version this library mounts.</summary>
    private const ushort OldestFormatVersion = 1;
    private const int AnchorSearchBlocks = 16;

    private readonly int[] _anchorBlocks = [-1, -1];
    private int _anchorCurrent;
    private int _anchorWritePointer;

    /// <summary>Whether the rest of the anchor block this mount found was checked to be erased.</summary>
    private bool _anchorTailChecked;
    private List<int> _checkpointPages = [];
    private int _checkpointNext = -1;

    /// <summary>Exact size of the serialised checkpoint body, with files that have uncommitted writes as <paramref name="views"/> says.</summary>
    private int CheckpointSize(Dictionary<uint, Node?> views)
    {
        int size = CheckpointHeadSize();
        foreach (var n in _nodes.Values)
        {
            size += EntrySize(n);
        }

        foreach (var (id, view) in views)
        {
            size += (view is null ? 0 : EntrySize(view)) - EntrySize(_nodes[id]);
        }

        return size;
    }

    /// <summary>Bytes of the fixed part: header, heads, block table and open-transaction list.</summary>
    private int CheckpointHeadSize() => 64 + (_blocks.Count * 14) + OpenTxnListSize();

    /// <summary>The checkpoint size last written, plus slack for growth until the next one (cheap: no walk of the index).</summary>
    private int CheckpointSizeEstimate() => (_lastCheckpointSize * 2) + 4096;

    private int _lastCheckpointSize = 16384;

    /// <summary>
    /// The largest checkpoint, in pages: the anchor page lists the blocks it fills (a checkpoint's pages run from the
    /// start of each block in order), 4 bytes a block.
    /// </summary>
    private int MaxCheckpointPages => (_chunk - AnchorRecord.FixedSize) / 4 * _ppb;

    /// <summary>
    /// Writes a checkpoint of the committed state. With handles holding uncommitted writes it describes their files
    /// as committed (see <see cref="CheckpointCanCoverOpenTxns"/>); the one written at unmount needs none.
    /// </summary>
    private void WriteCheckpoint(bool forUnmount)
    {
        using var timer = FfsMetrics.TimeCheckpoint(this, "full");
        if (forUnmount ? _openTxns.Count != 0 : !CheckpointCanCoverOpenTxns())
        {
            throw new InvalidOperationException("A checkpoint needs every transaction to be committed.");
        }

        FinishPendingCheckpoint();

        for (int attempt = 0; ; attempt++)
        {
            if (TryWriteCheckpoint(forUnmount))
            {
                return;
            }

            if (attempt >= 4)
            {
                throw new FlashFileSystemException("Could not write a checkpoint: too many program failures.");
            }
        }
    }

    private bool TryWriteCheckpoint(bool forUnmount)
    {
        var (previousNext, size, targets, oldBlocks, views) = PlanCheckpoint(mustWrite: true)!.Value;
        int pages = (size + _chunk - 1) / _chunk;
        HoldOpenTxnBlocks();

        // Blocks of the old checkpoint are recorded as free (to erase) in the new one: once the anchor points at the
        // new checkpoint nothing needs them.
        foreach (int b in oldBlocks)
        {
            _blocks.State.Apply(b, BlockTransition.Release);
            _blocks.Erased[b] = false;
        }

        ulong checkpointSeq = _seq;
        var body = LittleEndianWriter.Growable(size);
        try
        {
            SerializeCheckpoint(ref body, checkpointSeq, forUnmount, views);
            if (body.Position != size)
            {
                throw new InvalidOperationException($"Checkpoint size mismatch: computed {size}, serialised {body.Position}.");
            }

            _lastCheckpointSize = size;

            var written = new List<int>(pages);
            var payload = body.Written;
            for (int i = 0; i < pages; i++)
            {
                int page = (targets[i / _ppb] * _ppb) + (i % _ppb);
                int start = i * _chunk;
                var slice = payload.Slice(start, Math.Min(_chunk, payload.Length - start));
                var tag = new PageTag { Kind = PageKind.Checkpoint, ObjectId = VolumeId, Chunk = (uint)i, Sequence = ++_seq };
                try
                {
                    _io.Program(page, slice, tag);
                }
                catch (Drivers.ProgramFailedException)
                {
                    // The old checkpoint is still current: put its blocks back, retire the failed one, try again.
                    foreach (int b in oldBlocks)
                    {
                        _blocks.State.Apply(b, BlockTransition.AssignCheckpoint);
                    }

                    int failed = page / _ppb;
                    foreach (int t in targets.Where(t => t != failed))
                    {
                        _blocks.State.Apply(t, BlockTransition.Release);
                    }

                    MarkBadNow(failed);
                    _checkpointNext = previousNext;
                    return false;
                }

                written.Add(page);
            }

            foreach (int t in targets)
            {
                _blocks.LastSequence[t] = _seq;
            }

            WriteAnchor(checkpointSeq, written, payload.Length, Crc32C.Compute(payload));

            // Committed. Retiring blocks were recorded as bad; now mark them so on the chip too.
            for (int b = 0; b < _blocks.Count; b++)
            {
                if (_blocks.State[b] == BlockState.Retiring)
                {
                    MarkBadNow(b);
                }
            }

            _checkpointPages = written;
            _checkpointSeq = checkpointSeq;
            ReleaseHeldBlocks(checkpointSeq);
            _blocksSinceCheckpoint = 0;
            _checkpointsWritten++;
            FfsMetrics.CheckpointWritten(this);
            _log.LogDebug(FfsEvents.Checkpoint, "Checkpoint at sequence {Sequence}: {Pages} page(s), {Entries} entries; next blocks hot {Hot}, cold {Cold}, checkpoint {Next}", checkpointSeq, pages, _nodes.Count, _hot.ReservedNext, _cold.ReservedNext, _checkpointNext);
            return true;
        }
        finally
        {
            body.Dispose();
        }
    }

    /// <summary>
    /// What both kinds of checkpoint do first. Every head must know which block it will open next, so that a mount can
    /// tell from a few page reads whether anything at all was written after this checkpoint; the checkpoint starts in
    /// the block the previous one reserved for it (so a torn checkpoint is detectable). Then the size is taken and the
    /// blocks it will fill are claimed (before serialising, so the block table records them). Returns the previous
    /// checkpoint's reserved block, the body size, the claimed blocks, the previous checkpoint's blocks and the
    /// committed views of files with uncommitted writes.
    /// Throws <see cref="FlashNoSpaceException"/>, reservations unchanged, when the index is too large for one anchor
    /// page or there are not enough free blocks, if <paramref name="mustWrite"/> is set; else returns null (an
    /// incremental checkpoint tries again later).
    /// </summary>
    private (int PreviousNext, int Size, List<int> Targets, int[] OldBlocks, Dictionary<uint, Node?> Views)? PlanCheckpoint(bool mustWrite)
    {
        int previousNext = _checkpointNext;
        ReserveNext(_hot, mostWorn: false);
        ReserveNext(_cold, mostWorn: true);
        _checkpointNext = PickReservable(mostWorn: false, exclude: previousNext);

        var views = CommittedViews();
        int size = CheckpointSize(views);
        int pages = (size + _chunk - 1) / _chunk;
        if (pages > MaxCheckpointPages)
        {
            _checkpointNext = previousNext;
            var tooLarge = new FlashNoSpaceException($"The index ({size} bytes) exceeds the largest checkpoint an anchor page can describe ({MaxCheckpointPages} pages).");
            if (mustWrite)
            {
                throw tooLarge;
            }

            // An incremental one runs after an operation committed, which must not fail: the next operation that
            // needs space reports it (see EnsureSpace).
            _log.LogError(FfsEvents.Checkpoint, tooLarge, "No checkpoint possible");
            return null;
        }

        List<int> targets;
        try
        {
            targets = OpenCheckpointTargets((pages + _ppb - 1) / _ppb, previousNext);
        }
        catch (FlashNoSpaceException ex) when (!mustWrite)
        {
            _log.LogDebug(FfsEvents.Checkpoint, ex, "No room to start a checkpoint; trying again later");
            return null;
        }

        var oldBlocks = _checkpointPages.Select(p => p / _ppb).Distinct().Where(b => !targets.Contains(b)).ToArray();
        return (previousNext, size, targets, oldBlocks, views);
    }

    /// <summary>
    /// Erases and claims the blocks a checkpoint of <paramref name="blocksNeeded"/> blocks will fill, starting with the
    /// block the previous checkpoint reserved for it. Throws <see cref="FlashNoSpaceException"/> (claiming nothing)
    /// when there are not enough free blocks.
    /// </summary>
    private List<int> OpenCheckpointTargets(int blocksNeeded, int previousNext)
    {
        // Blocks that hold nothing live any more are free for the taking (after recovery, before any garbage
        // collection has run, they may be all there is).
        ReclaimEmptyBlocks();
        var targets = new List<int>(blocksNeeded);
        while (targets.Count < blocksNeeded)
        {
            int b = targets.Count == 0 && previousNext >= 0 && _blocks.State[previousNext] == BlockState.Free ? previousNext : PickFreeOrReservedBlock(mostWorn: false);

            if (b < 0)
            {
                foreach (int t in targets)
                {
                    _blocks.State.Apply(t, BlockTransition.Release);
                }

                _checkpointNext = previousNext;
                throw new FlashNoSpaceException("No free block for a checkpoint.");
            }

            if (!_blocks.Erased[b] && !EraseBlock(b))
            {
                continue;
            }

            _blocks.State.Apply(b, BlockTransition.AssignCheckpoint);
            _blocks.Erased[b] = false;
            _blocks.ClearBlock(b);
            targets.Add(b);
        }

        return targets;
    }

    private void ReserveNext(Head head, bool mostWorn)
    {
        if (head.ReservedNext >= 0 && _blocks.State[head.ReservedNext] == BlockState.Free && _blocks.Erased[head.ReservedNext])
        {
            return;
        }

        head.ReservedNext = -1;
        head.ReservedNext = PickReservable(mostWorn, exclude: -1);
    }

    /// <summary>An erased free block not reserved by anyone (so its first page reads erased until someone opens it).</summary>
    private int PickReservable(bool mostWorn, int exclude)
    {
        int best = -1;
        for (int b = 0; b < _blocks.Count; b++)
        {
            if (_blocks.State[b] != BlockState.Free || !_blocks.Erased[b] || b == exclude
                || b == _hot.ReservedNext || b == _cold.ReservedNext || b == _checkpointNext)
            {
                continue;
            }

            if (best < 0 || (mostWorn ? _blocks.EraseCount[b] > _blocks.EraseCount[best] : _blocks.EraseCount[b] < _blocks.EraseCount[best]))
            {
                best = b;
            }
        }

        return best;
    }

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

        w.I32(_checkpointNext);
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

        _checkpointNext = CheckedBlock(r.I32(), allowNone: true);
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

    /// <summary>Appends an anchor page pointing at a checkpoint; switches to the other anchor block when this one is full.</summary>
    private void WriteAnchor(ulong checkpointSeq, List<int> pages, int checkpointLength, uint checkpointCrc)
    {
        int blocks = (pages.Count + _ppb - 1) / _ppb;
        var list = new int[blocks];
        for (int i = 0; i < pages.Count; i++)
        {
            if (pages[i] != ((pages[i - (i % _ppb)] / _ppb) * _ppb) + (i % _ppb))
            {
                throw new InvalidOperationException($"Checkpoint page {i} (page {pages[i]}) is not where its block list puts it.");
            }

            if (i % _ppb == 0)
            {
                list[i / _ppb] = pages[i] / _ppb;
            }
        }

        var anchor = new AnchorRecord
        {
            Version = FormatVersion,
            TagSize = PageTag.Size,
            PageSize = _g.PageSize,
            SpareSize = _g.SpareSize,
            PagesPerBlock = _g.PagesPerBlock,
            BlockCount = _g.BlockCount,
            Kind = (byte)_g.Kind,
            TagInSpare = _io.TagInSpare,
            VolumeId = VolumeId,
            CheckpointSequence = checkpointSeq,
            CheckpointLength = checkpointLength,
            CheckpointCrc = checkpointCrc,
            CheckpointPageCount = pages.Count,
            Label = Label,
            AnchorBlock0 = _anchorBlocks[0],
            AnchorBlock1 = _anchorBlocks[1],
            List = list,
        };
        var buffer = new byte[anchor.EncodedSize];
        anchor.Encode(buffer);

        for (int attempt = 0; attempt < 4; attempt++)
        {
            if (_anchorWritePointer >= _ppb)
            {
                // Switch blocks: erase the other one and start it. Until its first page is programmed, the last page
                // of this block stays the newest valid anchor.
                int other = 1 - _anchorCurrent;
                if (!EraseBlock(_anchorBlocks[other]))
                {
                    throw new FlashFileSystemException($"Anchor block {_anchorBlocks[other]} failed to erase; the volume needs reformatting onto good anchor blocks.");
                }

                _blocks.State.Apply(_anchorBlocks[other], BlockTransition.AssignAnchor);
                _blocks.Erased[_anchorBlocks[other]] = false;
                _anchorCurrent = other;
                _anchorWritePointer = 0;
            }

            int page = (_anchorBlocks[_anchorCurrent] * _ppb) + _anchorWritePointer;
            if (!ReadyToProgram(_anchorBlocks[_anchorCurrent], page, inherited: !_anchorTailChecked))
            {
                // Appending past a page that is not erased would hide this anchor from mount's search: switch blocks.
                _anchorWritePointer = _ppb;
                continue;
            }

            _anchorTailChecked = true;

            _anchorWritePointer++;
            try
            {
                // The number is used up only by a page that took it (recovery stops at a missing one).
                _io.Program(page, buffer, new PageTag { Kind = PageKind.Anchor, ObjectId = VolumeId, Sequence = _seq + 1 });
                _seq++;
                return;
            }
            catch (Drivers.ProgramFailedException)
            {
                _log.LogWarning(FfsEvents.BadBlock, "Anchor page {Page} failed to program; moving on", page);
                _anchorWritePointer = _ppb;
            }
        }

        throw new FlashFileSystemException("Could not write an anchor page.");
    }
}

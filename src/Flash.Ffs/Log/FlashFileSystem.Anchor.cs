using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>Mount's anchor search: the newest intact anchor page, what it says, and whether it sits where it says.</summary>
public sealed partial class FlashFileSystem
{
    /// <summary>
    /// The anchor found must sit in one of the two blocks it names, and the checkpoint must record both as anchor
    /// blocks. Otherwise blocks were moved (swapped, copied back): the next anchor would go where the next mount does
    /// not look, and blocks the index maps hold something else. Reading is still safe (every read checks what it
    /// read), writing is not: a read-write mount is refused.
    /// </summary>
    private void RefuseWritesToMovedAnchors(int foundIn)
    {
        bool named = foundIn == _anchorBlocks[0] || foundIn == _anchorBlocks[1];
        bool recorded = _blocks.State[_anchorBlocks[0]] == BlockState.Anchor && _blocks.State[_anchorBlocks[1]] == BlockState.Anchor;
        if (_options.ReadOnly || (named && recorded))
        {
            return;
        }

        throw new FileSystemCorruptException(named
            ? $"The checkpoint does not record blocks {_anchorBlocks[0]} and {_anchorBlocks[1]} as the anchor blocks the anchor names: blocks were moved. Mount read-only to copy the data off, then reformat."
            : $"The newest anchor page is in block {foundIn}, not in the anchor blocks {_anchorBlocks[0]} and {_anchorBlocks[1]} it names: blocks were moved. Mount read-only to copy the data off, then reformat.");
    }

    private readonly record struct AnchorPage(int Block, int Page, int NextFree, ulong Sequence, byte[] Payload);

    /// <summary>
    /// Finds the newest intact anchor page. The anchor blocks are the first two good blocks of the first
    /// <see cref="AnchorSearchBlocks"/> (format's choice), filled in turn, each erased before it is started again:
    /// everything in the block whose first page is newer is newer than anything in the other. The usual path reads the
    /// first block that starts with an anchor page, takes its newest anchor (which names both anchor blocks), and
    /// looks at the first page of the other one: a dozen page reads. Anything unexpected falls back to
    /// <see cref="SearchAnchorBlocks"/>.
    /// </summary>
    private AnchorPage FindNewestAnchor()
    {
        var buffer = new byte[_chunk];
        int search = Math.Min(AnchorSearchBlocks, _blocks.Count);
        for (int b = 0; b < search; b++)
        {
            if (!StartsWithAnchor(b, out _))
            {
                continue;
            }

            if (NewestAnchorIn(b, buffer) is not { } newest || newest.Payload.Length < AnchorRecord.FixedSize)
            {
                break;
            }

            var (block0, block1) = AnchorRecord.AnchorBlocksNamedIn(newest.Payload);
            int other = block0 == b ? block1 : block1 == b ? block0 : -1;
            if (other < 0 || other >= _blocks.Count)
            {
                break;
            }

            if (!StartsWithAnchor(other, out ulong otherFirst) || otherFirst < newest.Sequence)
            {
                return newest;
            }

            return NewestAnchorIn(other, buffer) ?? newest;
        }

        return SearchAnchorBlocks(buffer, search);
    }

    /// <summary>Whether block <paramref name="b"/> is good and its first page is an intact anchor page (and its sequence).</summary>
    private bool StartsWithAnchor(int b, out ulong sequence)
    {
        sequence = 0;
        if (_device.IsBad(b) || _io.ReadTag(b * _ppb, out var first) != PageReadStatus.Ok || first.Kind != PageKind.Anchor)
        {
            return false;
        }

        sequence = first.Sequence;
        return true;
    }

    /// <summary>
    /// The general search: the first two blocks that start with an anchor page, the one started last first, falling
    /// back to the other when it holds no intact anchor page (a cut while its first page was programmed, or damage).
    /// </summary>
    private AnchorPage SearchAnchorBlocks(byte[] buffer, int search)
    {
        var found = new List<(int Block, ulong Sequence)>(2);
        for (int b = 0; b < search && found.Count < 2; b++)
        {
            if (StartsWithAnchor(b, out ulong sequence))
            {
                found.Add((b, sequence));
            }
        }

        foreach (var (block, _) in found.OrderByDescending(f => f.Sequence))
        {
            if (NewestAnchorIn(block, buffer) is { } anchor)
            {
                return anchor;
            }
        }

        throw new FileSystemCorruptException($"No Flash volume found: no valid anchor page in the first {search} blocks.");
    }

    /// <summary>The newest intact anchor page of block <paramref name="b"/>, or null.</summary>
    private AnchorPage? NewestAnchorIn(int b, byte[] buffer)
    {
        // Anchor pages are appended in order: find the first erased page, then walk back to the newest intact one.
        int lo = 1, hi = _ppb;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_io.ReadTag((b * _ppb) + mid, out _) == PageReadStatus.Erased)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }

        for (int p = lo - 1; p >= 0; p--)
        {
            if (_io.Read((b * _ppb) + p, buffer, out var tag) == PageReadStatus.Ok && tag.Kind == PageKind.Anchor)
            {
                return new AnchorPage(b, (b * _ppb) + p, lo, tag.Sequence, buffer.AsSpan(0, tag.ByteCount).ToArray());
            }
        }

        return null;
    }

    private void ParseAnchor(ReadOnlySpan<byte> a, out List<int> pages, out int length, out uint crc)
    {
        var anchor = AnchorRecord.Decode(a, OldestFormatVersion, FormatVersion, PageTag.Size);
        if (anchor.PageSize != _g.PageSize || anchor.SpareSize != _g.SpareSize || anchor.PagesPerBlock != _g.PagesPerBlock || anchor.BlockCount != _g.BlockCount || anchor.Kind != (byte)_g.Kind)
        {
            throw new GeometryMismatchException($"The volume was formatted for {anchor.PageSize}+{anchor.SpareSize} B pages, {anchor.PagesPerBlock} pages a block, {anchor.BlockCount} blocks; the device is {_g}.");
        }

        VolumeId = anchor.VolumeId;
        length = anchor.CheckpointLength;
        crc = anchor.CheckpointCrc;
        int count = anchor.CheckpointPageCount;
        Label = anchor.Label;
        (_anchorBlocks[0], _anchorBlocks[1]) = (anchor.AnchorBlock0, anchor.AnchorBlock1);
        // Version 1 listed every page of the checkpoint; version 2 lists the blocks it fills, from their first page.
        if (count <= 0 || anchor.List is not { } list || length <= 0 || length > (long)count * _chunk
            || _anchorBlocks.Any(b => b < 0 || b >= _g.BlockCount) || _anchorBlocks[0] == _anchorBlocks[1])
        {
            throw new FileSystemCorruptException("The anchor page describes an impossible checkpoint or anchor layout.");
        }

        pages = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            if (anchor.Version == 1)
            {
                pages.Add(CheckedPage(list[i]));
                continue;
            }

            int block = list[i / _ppb];
            if (block < 0 || block >= _g.BlockCount)
            {
                throw new FileSystemCorruptException($"The anchor page names block {block}, which does not exist.");
            }

            pages.Add((block * _ppb) + (i % _ppb));
        }
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
                if (!_pool.Erase(_anchorBlocks[other]))
                {
                    throw new FlashFileSystemException($"Anchor block {_anchorBlocks[other]} failed to erase; the volume needs reformatting onto good anchor blocks.");
                }

                _pool.StartAnchor(_anchorBlocks[other]);
                _anchorCurrent = other;
                _anchorWritePointer = 0;
            }

            int page = (_anchorBlocks[_anchorCurrent] * _ppb) + _anchorWritePointer;
            if (!_pool.ReadyToProgram(_anchorBlocks[_anchorCurrent], page, inherited: !_anchorTailChecked))
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

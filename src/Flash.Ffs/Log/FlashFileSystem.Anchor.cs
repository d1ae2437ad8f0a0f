using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;

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
}

using System.Buffers.Binary;
using System.Text;
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

            if (NewestAnchorIn(b, buffer) is not { } newest || newest.Payload.Length < AnchorFixedSize)
            {
                break;
            }

            var (block0, block1) = AnchorBlocksNamedIn(newest.Payload);
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

    /// <summary>The two anchor blocks an anchor page names (offsets 88 and 92, docs/format.md).</summary>
    private static (int Block0, int Block1) AnchorBlocksNamedIn(ReadOnlySpan<byte> anchor)
        => (BinaryPrimitives.ReadInt32LittleEndian(anchor[88..]), BinaryPrimitives.ReadInt32LittleEndian(anchor[92..]));

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
        if (a.Length < AnchorFixedSize || !a[..8].SequenceEqual(AnchorMagic))
        {
            throw new FileSystemCorruptException("The anchor page has a wrong magic number.");
        }

        ushort version = BinaryPrimitives.ReadUInt16LittleEndian(a[8..]);
        if (version is < OldestFormatVersion or > FormatVersion || BinaryPrimitives.ReadUInt16LittleEndian(a[10..]) != PageTag.Size)
        {
            throw new FileSystemCorruptException($"The volume has format version {version}; this library reads versions {OldestFormatVersion} to {FormatVersion}.");
        }

        int pageSize = BinaryPrimitives.ReadInt32LittleEndian(a[12..]);
        int spare = BinaryPrimitives.ReadInt32LittleEndian(a[16..]);
        int ppb = BinaryPrimitives.ReadInt32LittleEndian(a[20..]);
        int blocks = BinaryPrimitives.ReadInt32LittleEndian(a[24..]);
        if (pageSize != _g.PageSize || spare != _g.SpareSize || ppb != _g.PagesPerBlock || blocks != _g.BlockCount || a[28] != (byte)_g.Kind)
        {
            throw new GeometryMismatchException($"The volume was formatted for {pageSize}+{spare} B pages, {ppb} pages a block, {blocks} blocks; the device is {_g}.");
        }

        VolumeId = BinaryPrimitives.ReadUInt32LittleEndian(a[32..]);
        length = BinaryPrimitives.ReadInt32LittleEndian(a[44..]);
        crc = BinaryPrimitives.ReadUInt32LittleEndian(a[48..]);
        int count = BinaryPrimitives.ReadInt32LittleEndian(a[52..]);
        Label = Encoding.UTF8.GetString(a.Slice(56, 32)).TrimEnd('\0');
        (_anchorBlocks[0], _anchorBlocks[1]) = AnchorBlocksNamedIn(a);
        // Version 1 listed every page of the checkpoint; version 2 lists the blocks it fills, from their first page.
        int listed = version == 1 ? count : (int)Math.Min(int.MaxValue, ((long)count + _ppb - 1) / _ppb);
        if (count <= 0 || (long)a.Length < AnchorFixedSize + (listed * 4L) || length <= 0 || length > (long)count * _chunk
            || _anchorBlocks.Any(b => b < 0 || b >= _g.BlockCount) || _anchorBlocks[0] == _anchorBlocks[1])
        {
            throw new FileSystemCorruptException("The anchor page describes an impossible checkpoint or anchor layout.");
        }

        pages = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            if (version == 1)
            {
                pages.Add(CheckedPage(BinaryPrimitives.ReadInt32LittleEndian(a[(AnchorFixedSize + (i * 4))..])));
                continue;
            }

            int block = BinaryPrimitives.ReadInt32LittleEndian(a[(AnchorFixedSize + (i / _ppb * 4))..]);
            if (block < 0 || block >= _g.BlockCount)
            {
                throw new FileSystemCorruptException($"The anchor page names block {block}, which does not exist.");
            }

            pages.Add((block * _ppb) + (i % _ppb));
        }
    }
}

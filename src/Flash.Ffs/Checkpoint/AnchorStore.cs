using Flash.Drivers;
using Flash.Ffs.Blocks;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Checkpoint;

/// <summary>An intact anchor page found on the device: where it is, where its block's next free page is, and its record.</summary>
/// <param name="Block">The anchor block holding it.</param>
/// <param name="Page">Its page number.</param>
/// <param name="NextFree">The first erased page of its block (where the next anchor page goes).</param>
/// <param name="Sequence">Its tag's sequence number.</param>
/// <param name="Payload">Its encoded <see cref="AnchorRecord"/>.</param>
/// <param name="Refill">Its tag's chunk field: 0 for a checkpoint's anchor, 1, 2, ... for the refill anchors after it (same sequence).</param>
internal readonly record struct AnchorPage(int Block, int Page, int NextFree, ulong Sequence, byte[] Payload, uint Refill = 0);

/// <summary>
/// The two anchor blocks and the write pointer into them. An anchor page names the current checkpoint; appending
/// one is a checkpoint's commit point. Mount searches for the newest intact anchor (<see cref="FindNewest"/>) and
/// decodes it (<see cref="Parse"/>); the checkpoint writer appends the next one (<see cref="Write"/>). The blocks
/// are filled in turn, each erased before it is started again, so everything in the block whose first page is newer
/// is newer than anything in the other. The store also keeps the volume's identity (id and label) every anchor
/// page records.
/// </summary>
internal sealed class AnchorStore : IWritePoolAnchor
{
    /// <summary>Anchor blocks are the first two good blocks among this many (format's choice; mount looks there).</summary>
    public const int SearchBlocks = 16;

    private readonly IFlashDevice _device;
    private readonly PageIo _io;
    private readonly BlockPool _pool;
    private readonly ILogger _log;
    private readonly FlashGeometry _g;
    private readonly int _ppb;
    private readonly int[] _blocks = [-1, -1];

    /// <summary>Whether the rest of the anchor block this mount found was checked to be erased.</summary>
    private bool _tailChecked;

    /// <summary>The newest checkpoint's anchor record (a refill anchor repeats it with another pool); null before one.</summary>
    private AnchorRecord? _commit;

    /// <summary>The page an anchor is encoded into (kept: a refill anchor is written on the write path).</summary>
    private byte[] _page = [];

    /// <summary>The sequence number the newest checkpoint's anchor page took (its refills carry it again).</summary>
    private ulong _commitTagSequence;

    /// <summary>Refill anchors written for the newest checkpoint (the next one's tag chunk).</summary>
    private uint _refills;

    /// <summary>The other anchor block when <see cref="EraseStandbyAhead"/> erased it for the next switch, else -1.</summary>
    private int _erasedStandby = -1;

    /// <summary>Creates the store over a device; nothing is read until <see cref="FindNewest"/>.</summary>
    public AnchorStore(IFlashDevice device, PageIo io, BlockPool pool, ILogger log)
    {
        _device = device;
        _io = io;
        _pool = pool;
        _log = log;
        _g = device.Geometry;
        _ppb = _g.PagesPerBlock;
        pool.ConnectAnchor(this);
    }

    /// <summary>The write pool the newest anchor decoded by <see cref="Parse"/> records (null: none, recovery scans everything).</summary>
    public int[]? ParsedPool { get; private set; }

    /// <summary>The volume identifier every anchor page records.</summary>
    public uint VolumeId { get; set; }

    /// <summary>The volume label every anchor page records.</summary>
    public string Label { get; set; } = "";

    /// <summary>The two anchor blocks (chosen at format, read from the anchor at mount).</summary>
    public int[] Blocks => _blocks;

    /// <summary>Which of <see cref="Blocks"/> the next anchor page goes to (0 or 1).</summary>
    public int Current { get; set; }

    /// <summary>The page within the current block the next anchor page goes to; a full block switches first.</summary>
    public int WritePointer { get; set; }

    /// <summary>RAM held: this object and the two-entry block array.</summary>
    public long RamBytes => RamSize.Object((7 * RamSize.Reference) + (5 * 4) + 1) + RamSize.Array(4, _blocks.Length);

    /// <summary>Pages the current anchor block has left; the append after them switches blocks (and erases the other).</summary>
    public int PagesLeft => Math.Max(0, _ppb - WritePointer);

    /// <summary>
    /// Erases the other anchor block ahead of the switch, so the append that switches (a checkpoint's commit or a
    /// refill) does not carry an erase: idle time takes it (W9M: a 5 ms <c>Maintain</c> call whose commit switched
    /// anchor blocks took 6.3 ms). Safe at any time: the other block holds only anchors older than the current block's
    /// newest, which mount prefers, and a torn erase leaves at most an older intact first page. False when it was
    /// erased already or the erase failed (the switch then erases it, or reports the failure, as before).
    /// </summary>
    /// <returns>Whether an erase was done.</returns>
    public bool EraseStandbyAhead()
    {
        int other = _blocks[1 - Current];
        if (other < 0 || _erasedStandby == other)
        {
            return false;
        }

        if (!_pool.Erase(other))
        {
            return false;
        }

        _erasedStandby = other;
        return true;
    }

    /// <summary>Mount continues appending after the anchor page it found.</summary>
    /// <param name="found">The newest intact anchor page.</param>
    public void ContinueAfter(AnchorPage found)
    {
        Current = found.Block == _blocks[0] ? 0 : 1;
        WritePointer = found.NextFree;
    }

    /// <summary>
    /// Finds the newest intact anchor page. The usual path reads the first block that starts with an anchor page,
    /// takes its newest anchor (which names both anchor blocks), and looks at the first page of the other one: a
    /// dozen page reads. Anything unexpected falls back to <see cref="Search"/>.
    /// </summary>
    /// <returns>The newest intact anchor page.</returns>
    /// <exception cref="FileSystemCorruptException">No intact anchor page in the first <see cref="SearchBlocks"/> blocks.</exception>
    public AnchorPage FindNewest()
    {
        var buffer = new byte[_io.PayloadSize];
        int search = Math.Min(SearchBlocks, _g.BlockCount);
        for (int b = 0; b < search; b++)
        {
            if (!StartsWithAnchor(b, out _))
            {
                continue;
            }

            if (NewestIn(b, buffer) is not { } newest || newest.Payload.Length < AnchorRecord.FixedSize)
            {
                break;
            }

            var (block0, block1) = AnchorRecord.AnchorBlocksNamedIn(newest.Payload);
            int other = block0 == b ? block1 : block1 == b ? block0 : -1;
            if (other < 0 || other >= _g.BlockCount)
            {
                break;
            }

            if (!StartsWithAnchor(other, out ulong otherFirst, out uint otherRefill) || (otherFirst, otherRefill).CompareTo((newest.Sequence, newest.Refill)) < 0)
            {
                return newest;
            }

            return NewestIn(other, buffer) ?? newest;
        }

        return Search(buffer, search);
    }

    /// <summary>Whether block <paramref name="b"/> is good and its first page is an intact anchor page (and its sequence).</summary>
    private bool StartsWithAnchor(int b, out ulong sequence) => StartsWithAnchor(b, out sequence, out _);

    /// <summary>
    /// <see cref="StartsWithAnchor(int, out ulong)"/> and the first page's refill number: refill anchors repeat their
    /// checkpoint's sequence, so of two blocks started with the same sequence the higher refill number is newer.
    /// </summary>
    private bool StartsWithAnchor(int b, out ulong sequence, out uint refill)
    {
        sequence = 0;
        refill = 0;
        if (_device.IsBad(b) || _io.ReadTag(b * _ppb, out var first) != PageReadStatus.Ok || first.Kind != PageKind.Anchor)
        {
            return false;
        }

        sequence = first.Sequence;
        refill = first.Chunk;
        return true;
    }

    /// <summary>
    /// The general search: the first two blocks that start with an anchor page, the one started last first, falling
    /// back to the other when it holds no intact anchor page (a cut while its first page was programmed, or damage).
    /// </summary>
    private AnchorPage Search(byte[] buffer, int search)
    {
        var found = new List<(int Block, ulong Sequence, uint Refill)>(2);
        for (int b = 0; b < search && found.Count < 2; b++)
        {
            if (StartsWithAnchor(b, out ulong sequence, out uint refill))
            {
                found.Add((b, sequence, refill));
            }
        }

        foreach (var (block, _, _) in found.OrderByDescending(f => (f.Sequence, f.Refill)))
        {
            if (NewestIn(block, buffer) is { } anchor)
            {
                return anchor;
            }
        }

        throw new FileSystemCorruptException($"No Flash volume found: no valid anchor page in the first {search} blocks.");
    }

    /// <summary>The newest intact anchor page of block <paramref name="b"/>, or null.</summary>
    private AnchorPage? NewestIn(int b, byte[] buffer)
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
                return new AnchorPage(b, (b * _ppb) + p, lo, tag.Sequence, buffer.AsSpan(0, tag.ByteCount).ToArray(), tag.Chunk);
            }
        }

        return null;
    }

    /// <summary>
    /// Decodes an anchor page: checks the geometry it was formatted for, takes the volume's identity and the anchor
    /// blocks from it, and lists the checkpoint's pages.
    /// </summary>
    /// <param name="a">The anchor page's payload.</param>
    /// <param name="pages">The checkpoint's pages, in order.</param>
    /// <param name="length">The checkpoint body's length in bytes.</param>
    /// <param name="crc">The checkpoint body's CRC-32C.</param>
    /// <exception cref="GeometryMismatchException">The volume was formatted for another geometry.</exception>
    /// <exception cref="FileSystemCorruptException">The anchor describes an impossible layout.</exception>
    public void Parse(ReadOnlySpan<byte> a, out List<int> pages, out int length, out uint crc)
    {
        var anchor = AnchorRecord.Decode(a, CheckpointCodec.OldestVersion, CheckpointCodec.Version, PageTag.Size);
        if (anchor.PageSize != _g.PageSize || anchor.SpareSize != _g.SpareSize || anchor.PagesPerBlock != _g.PagesPerBlock || anchor.BlockCount != _g.BlockCount || anchor.Kind != (byte)_g.Kind)
        {
            throw new GeometryMismatchException($"The volume was formatted for {anchor.PageSize}+{anchor.SpareSize} B pages, {anchor.PagesPerBlock} pages a block, {anchor.BlockCount} blocks; the device is {_g}.");
        }

        if (anchor.PoolTruncated || (anchor.Pool is { } members && (members.Any(b => b < 0 || b >= _g.BlockCount) || members.Distinct().Count() != members.Length)))
        {
            throw new FileSystemCorruptException("The anchor page describes an impossible write pool.");
        }

        VolumeId = anchor.VolumeId;
        ParsedPool = anchor.Pool;
        _commit = anchor;
        length = anchor.CheckpointLength;
        crc = anchor.CheckpointCrc;
        int count = anchor.CheckpointPageCount;
        Label = anchor.Label;
        (_blocks[0], _blocks[1]) = (anchor.AnchorBlock0, anchor.AnchorBlock1);
        // Version 1 listed every page of the checkpoint; version 2 lists the blocks it fills, from their first page.
        if (count <= 0 || anchor.List is not { } list || length <= 0 || length > (long)count * _io.PayloadSize
            || _blocks.Any(b => b < 0 || b >= _g.BlockCount) || _blocks[0] == _blocks[1])
        {
            throw new FileSystemCorruptException("The anchor page describes an impossible checkpoint or anchor layout.");
        }

        pages = new List<int>(count);
        for (int i = 0; i < count; i++)
        {
            if (anchor.Version == 1)
            {
                if (list[i] < 0 || list[i] >= _g.PageCount)
                {
                    throw new FileSystemCorruptException($"The checkpoint names page {list[i]}, which does not exist.");
                }

                pages.Add(list[i]);
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

    /// <summary>Mount: the anchor page found is the newest; a refill anchor repeats its sequence with the next refill number.</summary>
    public void NoteFound(AnchorPage found)
    {
        _commitTagSequence = found.Sequence;
        _refills = found.Refill;
    }

    /// <summary>
    /// The anchor found must sit in one of the two blocks it names, and the checkpoint must record both as anchor
    /// blocks. Otherwise blocks were moved (swapped, copied back): the next anchor would go where the next mount does
    /// not look, and blocks the index maps hold something else. Reading is still safe (every read checks what it
    /// read), writing is not: a read-write mount is refused.
    /// </summary>
    /// <param name="foundIn">The block the newest anchor page was found in.</param>
    /// <param name="readOnly">Whether the mount is read-only (then nothing is refused).</param>
    /// <exception cref="FileSystemCorruptException">The anchor blocks were moved and the mount is read-write.</exception>
    public void RefuseWritesIfMoved(int foundIn, bool readOnly)
    {
        bool named = foundIn == _blocks[0] || foundIn == _blocks[1];
        var states = _pool.Table.State;
        bool recorded = states[_blocks[0]] == BlockState.Anchor && states[_blocks[1]] == BlockState.Anchor;
        if (readOnly || (named && recorded))
        {
            return;
        }

        throw new FileSystemCorruptException(named
            ? $"The checkpoint does not record blocks {_blocks[0]} and {_blocks[1]} as the anchor blocks the anchor names: blocks were moved. Mount read-only to copy the data off, then reformat."
            : $"The newest anchor page is in block {foundIn}, not in the anchor blocks {_blocks[0]} and {_blocks[1]} it names: blocks were moved. Mount read-only to copy the data off, then reformat.");
    }

    /// <summary>
    /// Appends an anchor page pointing at a checkpoint (the checkpoint's commit point); switches to the other anchor
    /// block when this one is full or its next page is not erased.
    /// </summary>
    /// <param name="checkpointSeq">The sequence the checkpoint describes.</param>
    /// <param name="pages">The checkpoint's pages: each block's from its first page, in order.</param>
    /// <param name="checkpointLength">The checkpoint body's length in bytes.</param>
    /// <param name="checkpointCrc">The checkpoint body's CRC-32C.</param>
    /// <param name="pageSequence">The sequence number the anchor page's tag takes (the log's next).</param>
    /// <exception cref="FlashFileSystemException">The other anchor block failed to erase, or four programs failed.</exception>
    public void Write(ulong checkpointSeq, List<int> pages, int checkpointLength, uint checkpointCrc, ulong pageSequence)
    {
        var anchor = Encode(checkpointSeq, pages, checkpointLength, checkpointCrc);
        int checkpointBlocks = anchor.List!.Length;

        // The write pool this anchor records (issue 19): chosen here, at the commit point, from the free blocks.
        bool hasPool = _pool.ChoosePoolForAnchor(AnchorRecord.PoolRoom(_io.PayloadSize, checkpointBlocks), checkpointBlocks, refillFor: -1, out var pool);
        Append(anchor, pool, hasPool, new PageTag { Kind = PageKind.Anchor, ObjectId = VolumeId, Sequence = pageSequence });
        _commit = anchor;
        _commitTagSequence = pageSequence;
        _refills = 0;
        _pool.PoolCommitted(pool, hasPool);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The refill repeats the checkpoint's anchor (same sequence number, so the log's numbering has no gap recovery
    /// would stop at) with the next refill number in the tag's chunk field. A cut before it is intact leaves the
    /// previous anchor newest, and nothing was written in the new blocks yet. Allocates nothing: a write that opens a
    /// block outside the pool writes it.
    /// </remarks>
    public void WriteRefillAnchor(int block)
    {
        if (_commit is not { } commit)
        {
            return;
        }

        bool hasPool = _pool.ChoosePoolForAnchor(AnchorRecord.PoolRoom(_io.PayloadSize, commit.List?.Length ?? 0), commit.List?.Length ?? 1, refillFor: block, out var pool);
        if (!hasPool)
        {
            _log.LogInformation(FfsEvents.Checkpoint, "The write pool outgrew the anchor page; until the next checkpoint, recovery scans every block");
        }

        Append(commit, pool, hasPool, new PageTag { Kind = PageKind.Anchor, ObjectId = VolumeId, Sequence = _commitTagSequence, Chunk = _refills + 1 });
        _refills++;
        _pool.Writes.Refilled(pool, hasPool);
    }

    /// <summary>Appends one anchor page; switches anchor blocks when this one is full or its next page is not erased.</summary>
    private void Append(AnchorRecord anchor, ReadOnlySpan<int> pool, bool hasPool, PageTag tag)
    {
        int size = anchor.EncodedSizeWith(hasPool ? pool.Length : 0);
        if (_page.Length < size)
        {
            _page = new byte[Math.Max(size, _io.PayloadSize)];
        }

        var buffer = _page.AsSpan(0, size);
        anchor.EncodeWith(buffer, pool, hasPool);
        for (int attempt = 0; attempt < 4; attempt++)
        {
            if (WritePointer >= _ppb)
            {
                // Switch blocks: erase the other one and start it. Until its first page is programmed, the last page
                // of this block stays the newest valid anchor.
                int other = 1 - Current;
                bool erasedAhead = _erasedStandby == _blocks[other];
                _erasedStandby = -1;
                if (!erasedAhead && !_pool.Erase(_blocks[other]))
                {
                    throw new FlashFileSystemException($"Anchor block {_blocks[other]} failed to erase; the volume needs reformatting onto good anchor blocks.");
                }

                _pool.StartAnchor(_blocks[other]);
                Current = other;
                WritePointer = 0;
            }

            int page = (_blocks[Current] * _ppb) + WritePointer;
            if (!_pool.ReadyToProgram(_blocks[Current], page, inherited: !_tailChecked))
            {
                // Appending past a page that is not erased would hide this anchor from mount's search: switch blocks.
                WritePointer = _ppb;
                continue;
            }

            _tailChecked = true;
            WritePointer++;
            try
            {
                // The number is used up only by a page that took it (recovery stops at a missing one): the caller
                // advances the log's counter once this returns.
                _io.Program(page, buffer, tag);
                return;
            }
            catch (ProgramFailedException)
            {
                _log.LogWarning(FfsEvents.BadBlock, "Anchor page {Page} failed to program; moving on", page);
                WritePointer = _ppb;
            }
        }

        throw new FlashFileSystemException("Could not write an anchor page.");
    }

    /// <summary>The anchor record naming a checkpoint (no pool yet); version 2 lists the blocks the checkpoint fills.</summary>
    private AnchorRecord Encode(ulong checkpointSeq, List<int> pages, int checkpointLength, uint checkpointCrc)
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
            Version = CheckpointCodec.Version,
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
            AnchorBlock0 = _blocks[0],
            AnchorBlock1 = _blocks[1],
            List = list,
        };
        return anchor;
    }
}

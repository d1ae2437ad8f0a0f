using System.Buffers.Binary;
using System.Text;
using Flash.Drivers;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>Format, mount, and recovery: find the newest anchor, load its checkpoint, replay what was written after it.</summary>
public sealed partial class FlashFileSystem
{
    /// <summary>Sequence numbers jump by this much after an unclean mount, beyond any torn page that was not seen.</summary>
    private const ulong SequenceGapAfterRecovery = 1UL << 20;

    private void FormatCore(FormatOptions options)
    {
        if (Encoding.UTF8.GetByteCount(options.Label) > 32)
        {
            throw new ArgumentException("The label must be at most 32 UTF-8 bytes.", nameof(options));
        }

        if (VolumeLimits.Refusal(_g, _chunk, _io.TagInSpare) is { } refusal)
        {
            throw new FlashFileSystemException(refusal);
        }

        VolumeId = options.VolumeId ?? (uint)Random.Shared.Next(1, int.MaxValue);
        Label = options.Label;
        for (int b = 0; b < _blocks.Count; b++)
        {
            if (_device.IsBad(b))
            {
                _blocks.State[b] = BlockState.Bad;
            }
            else
            {
                _blocks.State[b] = BlockState.Free;
                EraseBlock(b);
            }

            if ((b & 63) == 63 || b == _blocks.Count - 1)
            {
                options.Progress?.Invoke(new FlashProgress("format", b + 1, _blocks.Count));
            }
        }

        int anchors = 0;
        for (int b = 0; b < Math.Min(AnchorSearchBlocks, _blocks.Count) && anchors < 2; b++)
        {
            if (_blocks.State[b] == BlockState.Free)
            {
                _blocks.State[b] = BlockState.Anchor;
                _anchorBlocks[anchors++] = b;
            }
        }

        if (anchors < 2)
        {
            throw new FlashFileSystemException($"Fewer than two good blocks among the first {AnchorSearchBlocks}; the device cannot hold a volume.");
        }

        _root = new Node(RootId, 0, "", isDirectory: true);
        _nodes.Add(_root);
        _mounted = true;
        WriteCheckpoint(forUnmount: true);
        _mounted = false;
    }

    private void MountCore()
    {
        var anchor = FindNewestAnchor();
        ParseAnchor(anchor.Payload, out var checkpointPages, out int checkpointLength, out uint checkpointCrc);
        _anchorCurrent = anchor.Block == _anchorBlocks[0] ? 0 : 1;
        _anchorWritePointer = anchor.NextFree;
        _anchorSequence = anchor.Sequence;
        byte[] checkpoint = ReadCheckpoint(checkpointPages, checkpointLength, checkpointCrc);
        DeserializeCheckpoint(checkpoint);
        _checkpointPages = checkpointPages;
        RefuseWritesToMovedAnchors(anchor.Block);
        foreach (int b in _anchorBlocks)
        {
            _blocks.State[b] = BlockState.Anchor;
        }

        bool clean = NothingWrittenSinceCheckpoint();
        if (clean)
        {
            // Nothing happened after the checkpoint: heads continue where they were, erased blocks stay trusted.
            // Transactions it lists as open never committed.
            _openAtCheckpoint = [];
            _hot.Inherited = _cold.Inherited = true;
            RebuildValidity();
        }
        else
        {
            Recover();

            // Last point where cancelling is safe: from here on the recovered state is written down.
            _options.MountCancellation.ThrowIfCancellationRequested();
            if (!_options.ReadOnly)
            {
                // Cover the replayed blocks with a checkpoint right away: until one does, garbage collection may not
                // move them, which on a nearly full volume can leave nothing to reclaim.
                try
                {
                    WriteCheckpoint(forUnmount: false);
                }
                catch (FlashNoSpaceException ex)
                {
                    _log.LogWarning(FfsEvents.Recovery, ex, "No room for a checkpoint after recovery; the next one will cover the replayed blocks");
                }
            }
        }

        _checkpointPageSequences = [];
        _mounted = true;
        _programmedAtMount = _device.Statistics.DataBytesProgrammed;
        _log.LogInformation(FfsEvents.Mounted, "Mounted volume {VolumeId:X8} ({Entries} entries, {Clean})", VolumeId, _nodes.Count, clean ? "clean" : "recovered");
    }

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

    private byte[] ReadCheckpoint(List<int> pages, int length, uint crc)
    {
        var data = new byte[length];
        var buffer = new byte[_chunk];
        int offset = 0;
        _checkpointPageSequences = new List<ulong>(pages.Count);
        for (int i = 0; i < pages.Count; i++)
        {
            var status = _io.Read(pages[i], buffer, out var tag);
            if (status != PageReadStatus.Ok || tag.Kind != PageKind.Checkpoint || tag.Chunk != (uint)i || offset + tag.ByteCount > length)
            {
                throw new FileSystemCorruptException($"Checkpoint page {i} (page {pages[i]}) is unreadable or out of place ({status}).");
            }

            buffer.AsSpan(0, tag.ByteCount).CopyTo(data.AsSpan(offset));
            offset += tag.ByteCount;
            _checkpointPageSequences.Add(tag.Sequence);
            if (((i + 1) & 63) == 0 || i == pages.Count - 1)
            {
                // Reading writes nothing, so a mount may stop here too.
                Progress("mount-checkpoint", i + 1, pages.Count);
                _options.MountCancellation.ThrowIfCancellationRequested();
            }
        }

        if (offset != length || Crc32C.Compute(data) != crc)
        {
            throw new FileSystemCorruptException("The checkpoint's CRC does not match.");
        }

        return data;
    }

    /// <summary>
    /// Whether anything was written after the checkpoint: each head's next page and each reserved block's first page
    /// must still be erased. A head with no room and no reserved block cannot be checked, so it counts as written.
    /// </summary>
    private bool NothingWrittenSinceCheckpoint()
    {
        foreach (var h in new[] { _hot, _cold })
        {
            if (h.Block >= 0 && h.WritePointer < _ppb)
            {
                if (_io.ReadTag((h.Block * _ppb) + h.WritePointer, out _) != PageReadStatus.Erased)
                {
                    _log.LogInformation(FfsEvents.Recovery, "The {Head} head's next page {Page} was written after the checkpoint", h.Kind, (h.Block * _ppb) + h.WritePointer);
                    return false;
                }
            }
            else if (h.ReservedNext < 0 || _io.ReadTag(h.ReservedNext * _ppb, out _) != PageReadStatus.Erased)
            {
                _log.LogInformation(FfsEvents.Recovery, "The {Head} head's reserved block {Block} is missing or was written after the checkpoint", h.Kind, h.ReservedNext);
                return false;
            }
        }

        if (_checkpointNext < 0 || _io.ReadTag(_checkpointNext * _ppb, out _) != PageReadStatus.Erased)
        {
            _log.LogInformation(FfsEvents.Recovery, "The next checkpoint block {Block} is missing or was written", _checkpointNext);
            return false;
        }

        return true;
    }

    /// <summary>Rebuilds page validity from the index: live pages are exactly those some entry points at.</summary>
    private void RebuildValidity()
    {
        _blocks.ClearAllValidity();
        _inlineRefs.Clear();
        foreach (var n in _nodes.Values)
        {
            if (n.Chunks is { } map)
            {
                foreach (var e in map.Extents)
                {
                    for (int k = 0; k < e.Count; k++)
                    {
                        _blocks.SetValid(e.Page + k);
                    }
                }
            }

            if (n.IsInline)
            {
                AddInlineRef(n.InlinePage);
            }
        }
    }

    /// <summary>A log page found by the recovery scan.</summary>
    internal readonly record struct LoggedPage(ulong Sequence, int Page, PageTag Tag);

    /// <summary>
    /// Recovery after an unclean shutdown. Only blocks that were free at the checkpoint (plus the heads' tails) can
    /// hold newer pages; their tags are read, sorted by sequence and replayed. Transactions without a commit page are dropped.
    /// </summary>
    private void Recover()
    {
        var scan = new RecoveryScan();
        var candidates = new List<(int Block, int From)>();
        foreach (var h in new[] { _hot, _cold })
        {
            if (h.Block >= 0 && h.WritePointer < _ppb)
            {
                candidates.Add((h.Block, h.WritePointer));
            }
        }

        for (int b = 0; b < _blocks.Count; b++)
        {
            // Full blocks too: garbage collection may have reclaimed one after the checkpoint and the log reused it.
            // Its first page then carries a sequence newer than the checkpoint; an untouched block stops the scan at once.
            if (_blocks.State[b] is BlockState.Free or BlockState.Full)
            {
                candidates.Add((b, 0));
            }
        }

        long done = 0;
        foreach (var (block, from) in candidates)
        {
            ScanBlock(block, from, scan);
            if ((++done & 31) == 0)
            {
                Progress("recovery-scan", done, candidates.Count);
                _options.MountCancellation.ThrowIfCancellationRequested();
            }
        }

        var distrusted = ScanOpenTxnBlocks(scan.Logged, scan.Damaged);
        var logged = scan.Logged;
        var touched = scan.Touched;
        logged.Sort((x, y) => x.Sequence.CompareTo(y.Sequence));

        // Every sequence number above the checkpoint's went to some page: the log's, the checkpoint's own, its anchor.
        scan.Seen.AddRange(_checkpointPageSequences);
        scan.Seen.Add(_anchorSequence);
        scan.Seen.Sort();
        ulong cutoff = ReplayCutoff.FirstGap(scan.Seen, _checkpointSeq, SequenceGapAfterRecovery / 2);
        var outcome = new ReplayOutcome();
        outcome.DamagedPages.AddRange(scan.Damaged);
        Replay(logged, cutoff, distrusted, outcome);
        _mountReport = new MountReport(true, outcome.Applied, outcome.DamagedPages, outcome.StoppedAt, outcome.Dropped);
        if (outcome.Dropped.Count > 0 || outcome.DamagedPages.Count > 0)
        {
            _log.LogWarning(FfsEvents.RecoveryDropped, "Recovery met {Damaged} damaged page(s) and left out {Dropped} committed change(s) (replay stopped at sequence {Cutoff}): {Changes}",
                outcome.DamagedPages.Count, outcome.Dropped.Count, outcome.StoppedAt, string.Join("; ", outcome.Dropped.Take(8)));
        }

        // Blocks written after the checkpoint are full now (their tails may be torn), and stay unmovable until the
        // next checkpoint covers them.
        ulong maxSeq = Math.Max(_checkpointSeq, scan.Seen.Count > 0 ? scan.Seen[^1] : 0);
        foreach (var (block, (first, last)) in touched)
        {
            if ((_blocks.State[block] == BlockState.Free && !_blocks.Erased[block]) || _blocks.State[block] == BlockState.Full)
            {
                _blocks.EraseCount[block]++;
            }

            if (_blocks.State[block] is BlockState.Free or BlockState.Full)
            {
                _blocks.FirstSequence[block] = first;
            }

            _blocks.State[block] = BlockState.Full;
            _blocks.LastSequence[block] = last;
            maxSeq = Math.Max(maxSeq, last);
        }

        foreach (var h in new[] { _hot, _cold })
        {
            if (h.Block >= 0 && _blocks.State[h.Block] == BlockState.Open)
            {
                _blocks.State[h.Block] = BlockState.Full;
                _blocks.LastSequence[h.Block] = Math.Max(_blocks.LastSequence[h.Block], _checkpointSeq);
            }

            h.Reset();
        }

        for (int b = 0; b < _blocks.Count; b++)
        {
            if (_blocks.State[b] == BlockState.Free)
            {
                // A free block may have been half-erased or half-written after the checkpoint: erase before use.
                _blocks.Erased[b] = false;
            }
        }

        _checkpointNext = -1;
        _seq = maxSeq + SequenceGapAfterRecovery;
        _blocksSinceCheckpoint = touched.Count;
        RebuildValidity();
        _log.LogInformation(FfsEvents.Recovery, "Recovered after unclean shutdown: replayed {Pages} page(s) from {Blocks} block(s)", outcome.Applied, touched.Count);
    }

    /// <summary>
    /// Reads the tags of a block from <paramref name="from"/> until an erased page or one older than the checkpoint.
    /// A page whose tag cannot be read is skipped, not taken for the end of the block: its sequence number goes
    /// missing, which stops the replay there. It counts as damage only when a newer page follows it in the block; the
    /// last written page of a block may be one a power cut tore (or a block half erased), which loses nothing.
    /// </summary>
    private void ScanBlock(int block, int from, RecoveryScan scan)
    {
        int last = -1;
        var unreadable = new List<int>();
        for (int i = from; i < _ppb; i++)
        {
            int page = (block * _ppb) + i;
            var status = _io.ReadTag(page, out var tag);
            if (status == PageReadStatus.Erased)
            {
                break;
            }

            if (status != PageReadStatus.Ok)
            {
                unreadable.Add(page);
                last = -1;
                continue;
            }

            if (tag.Sequence <= _checkpointSeq)
            {
                break;
            }

            scan.Damaged.AddRange(unreadable);
            unreadable.Clear();
            scan.Seen.Add(tag.Sequence);
            scan.Touch(block, i, tag.Sequence);
            if (tag.Kind is not (PageKind.Data or PageKind.Meta))
            {
                // A checkpoint that never got its anchor: its pages count for the sequence, they are not replayed.
                last = -1;
                continue;
            }

            scan.Logged.Add(new LoggedPage(tag.Sequence, page, tag));
            last = scan.Logged.Count - 1;
        }

        // Only the last page of a block can have been cut mid-program: check its payload, drop it if torn (if it was
        // not the newest page overall, its sequence number is then missing and the replay stops before it).
        if (last >= 0 && scan.Logged[last].Tag.Kind == PageKind.Data && _io.Read(scan.Logged[last].Page, _pageBuffer, out _) != PageReadStatus.Ok)
        {
            scan.Seen.Remove(scan.Logged[last].Sequence);
            scan.Logged.RemoveAt(last);
        }
    }
}

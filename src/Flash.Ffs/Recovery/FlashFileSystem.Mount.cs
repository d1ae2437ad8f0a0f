using Flash.Ffs.Blocks;
using Flash.Ffs.Format;
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
            _pool.Format(b);

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
                _pool.AssignAnchor(b);
                _anchorBlocks[anchors++] = b;
            }
        }

        if (anchors < 2)
        {
            throw new FlashFileSystemException($"Fewer than two good blocks among the first {AnchorSearchBlocks}; the device cannot hold a volume.");
        }

        _root = new Node(RootId, 0, "", isDirectory: true);
        _index.AddUnlisted(_root);
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
        byte[] checkpoint = ReadCheckpoint(checkpointPages, checkpointLength);
        Restore(CheckpointCodec.Decode(checkpoint, checkpointCrc, _blocks.Count, _ppb));
        _checkpointPages = checkpointPages;
        RefuseWritesToMovedAnchors(anchor.Block);
        foreach (int b in _anchorBlocks)
        {
            _pool.AssignAnchor(b);
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

    /// <summary>Reads and decodes the current checkpoint of a volume without mounting it: writes nothing, keeps nothing (diagnostics and tests).</summary>
    /// <param name="device">The device holding the volume.</param>
    /// <returns>The checkpoint the newest anchor names.</returns>
    /// <exception cref="FileSystemCorruptException">No valid anchor or checkpoint was found.</exception>
    internal static CheckpointImage ReadCheckpointImage(IFlashDevice device)
    {
        var fs = new FlashFileSystem(device, new FlashFileSystemOptions());
        var anchor = fs.FindNewestAnchor();
        fs.ParseAnchor(anchor.Payload, out var pages, out int length, out uint crc);
        return CheckpointCodec.Decode(fs.ReadCheckpoint(pages, length), crc, fs._blocks.Count, fs._ppb);
    }

    /// <summary>Sets the facade's counters and heads and loads the block table and the index from a checkpoint image.</summary>
    private void Restore(CheckpointImage image)
    {
        _checkpointSeq = image.Sequence;
        _seq = image.Sequence;
        _nextId = image.NextId;
        _nextTxn = image.NextTxn;
        RestoreHead(_hot, image.Hot);
        RestoreHead(_cold, image.Cold);
        _pool.Reservations.Checkpoint = image.CheckpointNext;
        CheckpointRestore.Blocks(_blocks, image);
        if (image.Version >= 2)
        {
            _openAtCheckpoint = image.OpenTransactions.Select(t => (t.Id, t.Blocks.ToArray())).ToList();
        }

        _root = CheckpointRestore.Index(_nodes, image.Entries, RootId);

        static void RestoreHead(Head head, CheckpointHead recorded)
        {
            head.Block = recorded.Block;
            head.WritePointer = recorded.WritePointer;
            head.ReservedNext = recorded.ReservedNext;
        }
    }

    private byte[] ReadCheckpoint(List<int> pages, int length)
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

        if (offset != length)
        {
            // The same words as a CRC mismatch (which the codec finds): the pages do not add up to the body.
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

        int checkpointNext = _pool.Reservations.Checkpoint;
        if (checkpointNext < 0 || _io.ReadTag(checkpointNext * _ppb, out _) != PageReadStatus.Erased)
        {
            _log.LogInformation(FfsEvents.Recovery, "The next checkpoint block {Block} is missing or was written", checkpointNext);
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
            _log.LogWarning(FfsEvents.RecoveryDropped, "Recovery met {Damaged} damaged page(s) and left out {Dropped} committed change(s) ({Replay}): {Changes}",
                outcome.DamagedPages.Count, outcome.Dropped.Count, outcome.StoppedAt is { } stop ? $"replay stopped at sequence {stop}" : "replay ran to the end", string.Join("; ", outcome.Dropped.Take(8)));
        }

        // Blocks written after the checkpoint are full now (their tails may be torn), and stay unmovable until the
        // next checkpoint covers them.
        ulong maxSeq = Math.Max(_checkpointSeq, scan.Seen.Count > 0 ? scan.Seen[^1] : 0);
        foreach (var (block, (first, last)) in touched)
        {
            _pool.WrittenSinceCheckpoint(block, first, last);
            maxSeq = Math.Max(maxSeq, last);
        }

        foreach (var h in new[] { _hot, _cold })
        {
            if (h.Block >= 0 && _blocks.State[h.Block] == BlockState.Open)
            {
                _pool.CloseIfOpen(h.Block);
                _blocks.LastSequence[h.Block] = Math.Max(_blocks.LastSequence[h.Block], _checkpointSeq);
            }

            h.Reset();
        }

        _pool.DistrustErasedFreeBlocks();
        _pool.Reservations.Checkpoint = -1;
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

using Flash.Ffs.Blocks;
using Flash.Ffs.Checkpoint;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Recovery;

/// <summary>
/// Mount's recovery: finds the newest anchor, reads and decodes its checkpoint, restores the block table and the index
/// from the image, and, when anything was written after the checkpoint, scans the log and replays what committed
/// (<see cref="LogReplay"/>). It writes nothing (a mount can be cancelled up to the end of recovery and repeated) and
/// holds nothing once <see cref="Run"/> returns: the components it restores are the pool's and the index's, and the
/// rest is the <see cref="RecoveredVolume"/> the facade wires.
/// </summary>
internal sealed class VolumeRecovery
{
    /// <summary>Sequence numbers jump by this much after an unclean mount, beyond any torn page that was not seen.</summary>
    public const ulong SequenceGapAfterRecovery = 1UL << 20;

    private readonly PageIo _io;
    private readonly BlockPool _pool;
    private readonly BlockTable _blocks;
    private readonly IndexMutator _index;
    private readonly FlashFileSystemOptions _options;
    private readonly ILogger _log;
    private readonly AnchorStore _anchors;
    private readonly OpenTxnCoverage _coverage;
    private readonly InlinePageRefs _inline;
    private readonly int _ppb;
    private readonly int _chunk;

    /// <summary>Creates the recovery of one mount over the (fresh) components it restores.</summary>
    /// <param name="io">Page and tag I/O of the device.</param>
    /// <param name="pool">The block pool, as constructed (its table is loaded from the checkpoint).</param>
    /// <param name="index">The index, empty (built from the checkpoint, then changed by the replay).</param>
    /// <param name="pagesPerBlock">Pages a block of the device.</param>
    /// <param name="options">Progress callback, mount cancellation and logging.</param>
    /// <param name="log">Where recovery logs.</param>
    /// <param name="anchors">The anchor store (it keeps the volume id, label and anchor blocks the anchor names).</param>
    /// <param name="coverage">The open-transaction coverage (it holds the blocks the checkpoint lists for open transactions).</param>
    /// <param name="inline">The inline-page references, rebuilt with page validity.</param>
    public VolumeRecovery(
        PageIo io, BlockPool pool, IndexMutator index, int pagesPerBlock, FlashFileSystemOptions options, ILogger log, AnchorStore anchors, OpenTxnCoverage coverage, InlinePageRefs inline)
    {
        _io = io;
        _pool = pool;
        _blocks = pool.Table;
        _index = index;
        _options = options;
        _log = log;
        _anchors = anchors;
        _coverage = coverage;
        _inline = inline;
        _ppb = pagesPerBlock;
        _chunk = io.PayloadSize;
    }

    /// <summary>Reads and decodes the checkpoint the newest anchor names; restores nothing.</summary>
    /// <returns>The checkpoint image.</returns>
    /// <exception cref="FileSystemCorruptException">No valid anchor or checkpoint was found.</exception>
    public CheckpointImage ReadImage() => ReadImage(FindAnchor(), new List<ulong>());

    /// <summary>Recovers the volume: restores the pool and the index and returns what the facade wires.</summary>
    /// <returns>The recovered state.</returns>
    /// <exception cref="FileSystemCorruptException">No valid volume was found, or a read-write mount of moved blocks was refused.</exception>
    /// <exception cref="OperationCanceledException">The mount was cancelled; nothing was written.</exception>
    public RecoveredVolume Run()
    {
        var anchor = FindAnchor();
        var pageSequences = new List<ulong>(anchor.CheckpointPages.Count);
        var image = ReadImage(anchor, pageSequences);
        var root = Restore(image);
        _anchors.RefuseWritesIfMoved(anchor.Block, _options.ReadOnly);
        _pool.AssignAnchor(anchor.AnchorBlock0);
        _pool.AssignAnchor(anchor.AnchorBlock1);
        var open = image.Version >= 2 ? image.OpenTransactions.Select(t => (t.Id, t.Blocks.ToArray())).ToList() : [];
        var replay = new LogReplay(_index, _io, _options, _log, image.NextId, image.NextTxn);
        var hot = new RecoveredHead(image.Hot.Block, image.Hot.WritePointer, Inherited: true);
        var cold = new RecoveredHead(image.Cold.Block, image.Cold.WritePointer, Inherited: true);
        ulong sequence = image.Sequence;
        int blocksSinceCheckpoint = 0;
        var report = MountReport.CleanMount;
        bool clean = NothingWrittenSinceCheckpoint(image);
        if (clean)
        {
            // Nothing happened after the checkpoint: heads continue where they were, erased blocks stay trusted.
            // Transactions it lists as open never committed.
            PageValidity.Rebuild(_blocks, _index.Nodes, _inline);
        }
        else
        {
            (sequence, blocksSinceCheckpoint, report) = Recover(image, anchor.Sequence, anchor.Pool, pageSequences, open, replay);
            hot = cold = new RecoveredHead(-1, 0, Inherited: false);
        }

        // The write pool the anchor records: members recovery found used stay listed; the heads' checkpointed blocks
        // are open at the anchor.
        _pool.Writes.Mounted(anchor.Pool, anchor.Pool?.Where(b => _blocks.State[b] is not (BlockState.Free or BlockState.Bad)) ?? [],
            [.. new[] { image.Hot.Block, image.Cold.Block }.Where(b => b >= 0)]);

        // A delta's base stays claimed with it: both bodies' pages are the mounted checkpoint's.
        var checkpointPages = image.BasePages.IsEmpty ? anchor.CheckpointPages : [.. image.BasePages, .. anchor.CheckpointPages];
        return new RecoveredVolume(clean, image.Sequence, sequence, replay.NextId, replay.NextTxn, root, hot, cold, checkpointPages,
            anchor.Block == anchor.AnchorBlock0 ? 0 : 1, anchor.NextFree, blocksSinceCheckpoint, report);
    }

    /// <summary>Finds the newest intact anchor and decodes it (the anchor store keeps the volume id, label and anchor blocks it names).</summary>
    private FoundAnchor FindAnchor()
    {
        var anchor = _anchors.FindNewest();
        _anchors.Parse(anchor.Payload, out var pages, out int length, out uint crc);
        _anchors.NoteFound(anchor);
        return new FoundAnchor(anchor.Block, anchor.NextFree, anchor.Sequence, pages, length, crc, _anchors.Blocks[0], _anchors.Blocks[1], _anchors.ParsedPool);
    }

    /// <summary>
    /// The body the anchor names, decoded; a delta (format 5) is applied to the base it references, read from the
    /// blocks it lists and checked against the length and CRC it records. Either damaged: corrupt, naming which.
    /// </summary>
    private CheckpointImage ReadImage(FoundAnchor anchor, List<ulong> pageSequences)
    {
        var body = ReadCheckpoint(anchor.CheckpointPages, anchor.CheckpointLength, pageSequences);
        if (!CheckpointCodec.IsDelta(body))
        {
            return CheckpointCodec.Decode(body, anchor.CheckpointCrc, _blocks.Count, _ppb);
        }

        var delta = CheckpointCodec.DecodeDelta(body, anchor.CheckpointCrc, _blocks.Count, _ppb);
        var basePages = delta.BasePages(_ppb);
        CheckpointImage baseImage;
        try
        {
            var baseBody = ReadCheckpoint(basePages, delta.Base.Length, []);
            if (CheckpointCodec.IsDelta(baseBody))
            {
                throw new FileSystemCorruptException("It is a delta, not a base.");
            }

            baseImage = CheckpointCodec.Decode(baseBody, delta.Base.Crc, _blocks.Count, _ppb);
        }
        catch (FileSystemCorruptException ex)
        {
            throw new FileSystemCorruptException($"The base checkpoint (sequence {delta.Base.Sequence}) of the delta checkpoint is damaged: {ex.Message}", ex);
        }

        return delta.Apply(baseImage) with { BasePages = [.. basePages] };
    }

    /// <summary>Loads the block table, the reservations and the index from a checkpoint image; returns the root.</summary>
    private Node Restore(CheckpointImage image)
    {
        _pool.Reservations.Hot = image.Hot.ReservedNext;
        _pool.Reservations.Cold = image.Cold.ReservedNext;
        _pool.Reservations.Checkpoint = image.CheckpointNext;
        CheckpointRestore.Blocks(_blocks, image);
        return CheckpointRestore.Index(_index.Nodes, _index.Lost, image.Entries, FlashFileSystem.RootId);
    }

    private byte[] ReadCheckpoint(List<int> pages, int length, List<ulong> pageSequences)
    {
        var data = new byte[length];
        var buffer = new byte[_chunk];
        int offset = 0;
        for (int i = 0; i < pages.Count; i++)
        {
            var status = _io.Read(pages[i], buffer, out var tag);
            if (status != PageReadStatus.Ok || tag.Kind != PageKind.Checkpoint || tag.Chunk != (uint)i || offset + tag.ByteCount > length)
            {
                throw new FileSystemCorruptException($"Checkpoint page {i} (page {pages[i]}) is unreadable or out of place ({status}).");
            }

            buffer.AsSpan(0, tag.ByteCount).CopyTo(data.AsSpan(offset));
            offset += tag.ByteCount;
            pageSequences.Add(tag.Sequence);
            if (((i + 1) & 63) == 0 || i == pages.Count - 1)
            {
                // Reading writes nothing, so a mount may stop here too.
                _options.Progress?.Invoke(new FlashProgress("mount-checkpoint", i + 1, pages.Count));
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
    private bool NothingWrittenSinceCheckpoint(CheckpointImage image)
    {
        foreach (var (kind, h) in (ReadOnlySpan<(HeadKind, CheckpointHead)>)[(HeadKind.Hot, image.Hot), (HeadKind.Cold, image.Cold)])
        {
            if (h.Block >= 0 && h.WritePointer < _ppb)
            {
                if (_io.ReadTag((h.Block * _ppb) + h.WritePointer, out _) != PageReadStatus.Erased)
                {
                    _log.LogInformation(FfsEvents.Recovery, "The {Head} head's next page {Page} was written after the checkpoint", kind, (h.Block * _ppb) + h.WritePointer);
                    return false;
                }
            }
            else if (h.ReservedNext < 0 || _io.ReadTag(h.ReservedNext * _ppb, out _) != PageReadStatus.Erased)
            {
                _log.LogInformation(FfsEvents.Recovery, "The {Head} head's reserved block {Block} is missing or was written after the checkpoint", kind, h.ReservedNext);
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

    /// <summary>
    /// Recovery after an unclean shutdown. Only blocks that were free at the checkpoint (plus the heads' tails) can
    /// hold newer pages; with a write pool (version 5) only its members can, and nothing outside it was written or
    /// erased from an erased state (their checkpointed state stands). Their tags are read, sorted by sequence and replayed. Transactions without a commit page are
    /// dropped. Returns the last sequence number used, the blocks written after the checkpoint and the report.
    /// </summary>
    private (ulong Sequence, int BlocksSinceCheckpoint, MountReport Report) Recover(CheckpointImage image, ulong anchorSequence, int[]? pool, List<ulong> checkpointPageSequences,
        List<(uint Txn, int[] Blocks)> open, LogReplay replay)
    {
        ulong checkpointSeq = image.Sequence;
        var scan = new RecoveryScan();
        var candidates = new List<(int Block, int From)>();
        foreach (var h in (ReadOnlySpan<CheckpointHead>)[image.Hot, image.Cold])
        {
            if (h.Block >= 0 && h.WritePointer < _ppb)
            {
                candidates.Add((h.Block, h.WritePointer));
            }
        }

        foreach (int b in pool ?? Enumerable.Range(0, _blocks.Count))
        {
            // A free block that went bad after the checkpoint is known now: the mount may write no checkpoint that
            // would find it (MountCheckpointPolicy), and statistics must not wait for the allocator to reach it.
            if (_blocks.State[b] == BlockState.Free && _pool.TakeOutIfFoundBad(b))
            {
                continue;
            }

            // Full blocks too: garbage collection may have reclaimed one after the checkpoint and the log reused it.
            // Its first page then carries a sequence newer than the checkpoint; an untouched block stops the scan at once.
            if (_blocks.State[b] is BlockState.Free or BlockState.Full)
            {
                candidates.Add((b, 0));
            }
        }

        var buffer = new byte[_chunk];
        long done = 0;
        foreach (var (block, from) in candidates)
        {
            ScanBlock(block, from, checkpointSeq, scan, buffer);
            if ((++done & 31) == 0)
            {
                _options.Progress?.Invoke(new FlashProgress("recovery-scan", done, candidates.Count));
                _options.MountCancellation.ThrowIfCancellationRequested();
            }
        }

        var distrusted = OpenTxnPages.Scan(_coverage, _io, _ppb, open, checkpointSeq, scan.Logged, scan.Damaged);
        var logged = scan.Logged;
        var touched = scan.Touched;
        logged.Sort((x, y) => x.Sequence.CompareTo(y.Sequence));

        // Every sequence number above the checkpoint's went to some page: the log's, the checkpoint's own, its anchor.
        scan.Seen.AddRange(checkpointPageSequences);
        scan.Seen.Add(anchorSequence);
        scan.Seen.Sort();
        var lost = TxnPageAccounting.Account(scan.Seen, logged, checkpointSeq, SequenceGapAfterRecovery / 2, open.Select(t => t.Txn).ToHashSet());
        var outcome = new ReplayOutcome();
        outcome.DamagedPages.AddRange(scan.Damaged);
        replay.Run(logged, lost, distrusted, outcome);
        var report = new MountReport(true, outcome.Applied, outcome.DamagedPages, outcome.StoppedAt, outcome.Dropped);
        report = new MountReport(true, outcome.Applied, outcome.DamagedPages, outcome.StoppedAt, outcome.Dropped, MountCheckpointPolicy.Reason(report, open.Count > 0), blocksScanned: candidates.Count);
        if (outcome.Dropped.Count > 0 || outcome.DamagedPages.Count > 0)
        {
            _log.LogWarning(FfsEvents.RecoveryDropped, "Recovery met {Damaged} damaged page(s) and left out {Dropped} committed change(s) ({Replay}): {Changes}",
                outcome.DamagedPages.Count, outcome.Dropped.Count, outcome.StoppedAt is { } stop ? $"replay stopped at sequence {stop}" : "replay ran to the end", string.Join("; ", outcome.Dropped.Take(8)));
        }

        // Blocks written after the checkpoint are full now (their tails may be torn), and stay unmovable until the
        // next checkpoint covers them.
        ulong maxSeq = Math.Max(checkpointSeq, scan.Seen.Count > 0 ? scan.Seen[^1] : 0);
        foreach (var (block, (first, last)) in touched)
        {
            _pool.WrittenSinceCheckpoint(block, first, last);
            maxSeq = Math.Max(maxSeq, last);
        }

        foreach (var h in (ReadOnlySpan<CheckpointHead>)[image.Hot, image.Cold])
        {
            if (h.Block >= 0 && _blocks.State[h.Block] == BlockState.Open)
            {
                _pool.CloseIfOpen(h.Block);

                // Above the checkpoint's sequence, so that garbage collection leaves the block alone until a new
                // checkpoint covers it: the mount may write none (MountCheckpointPolicy), and a recovery from the
                // mounted one reads this block only from the write pointer it recorded, so the block must not be
                // reclaimed and written again from its first page before then.
                _blocks.LastSequence[h.Block] = Math.Max(_blocks.LastSequence[h.Block], checkpointSeq + 1);
            }
        }

        // The heads start afresh (the facade resets them from the result); their reservations are the pool's.
        _pool.Reservations.Hot = -1;
        _pool.Reservations.Cold = -1;
        // Every free block, not only the pool's: a block outside the pool was not written since the checkpoint on an
        // intact volume, but a damaged one (a block swapped in, DamagedImageFuzzTests) may hold pages where the
        // checkpoint says erased; an erase before first use costs nothing at mount.
        _pool.DistrustErasedFreeBlocks();
        _pool.Reservations.Checkpoint = -1;
        PageValidity.Rebuild(_blocks, _index.Nodes, _inline);
        _log.LogInformation(FfsEvents.Recovery, "Recovered after unclean shutdown: replayed {Pages} page(s) from {Blocks} block(s)", outcome.Applied, touched.Count);
        return (maxSeq + SequenceGapAfterRecovery, touched.Count, report);
    }

    /// <summary>
    /// Reads the tags of a block from <paramref name="from"/> until an erased page or one older than the checkpoint.
    /// A page whose tag cannot be read is skipped, not taken for the end of the block: its sequence number goes
    /// missing, which stops the replay there. It counts as damage only when a newer page follows it in the block; the
    /// last written page of a block may be one a power cut tore (or a block half erased), which loses nothing.
    /// </summary>
    private void ScanBlock(int block, int from, ulong checkpointSeq, RecoveryScan scan, byte[] buffer)
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

            if (tag.Sequence <= checkpointSeq)
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
        if (last >= 0 && scan.Logged[last].Tag.Kind == PageKind.Data && _io.Read(scan.Logged[last].Page, buffer, out _) != PageReadStatus.Ok)
        {
            scan.Seen.Remove(scan.Logged[last].Sequence);
            scan.Logged.RemoveAt(last);
        }
    }
}

using Flash.Drivers;
using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>The log: heads, page appends, block allocation, bad-block handling.</summary>
public sealed partial class FlashFileSystem
{
    /// <summary>
    /// Appends one page to a head's block, opening a new block when needed. A program failure retires the block
    /// (its live pages are moved) and the page is written again elsewhere.
    /// </summary>
    private int AppendPage(Head head, PageKind kind, PageFlags flags, uint objectId, uint chunk, uint txn, ReadOnlySpan<byte> payload)
    {
        for (int attempt = 0; attempt < 16; attempt++)
        {
            if (head.Block < 0 || head.WritePointer >= _ppb)
            {
                OpenBlock(head);
            }

            int block = head.Block;
            int page = (block * _ppb) + head.WritePointer;
            if (!ReadyToProgram(block, page, head.Inherited))
            {
                // Not erased after all: close the block (its pages so far keep their data) and write elsewhere.
                _blocks.Erased[block] = false;
                head.WritePointer = _ppb;
                continue;
            }

            head.Inherited = false;

            var tag = new PageTag { Kind = kind, Flags = flags, ObjectId = objectId, Chunk = chunk, TxnId = txn, Sequence = _seq + 1 };
            try
            {
                _io.Program(page, payload, tag);
            }
            catch (ProgramFailedException ex)
            {
                // The number is not used up: the page goes again elsewhere with it, so recovery finds no gap (a
                // missing number stops its replay). The failed page lies in a retired block and never reads back valid.
                head.WritePointer++;
                _log.LogWarning(FfsEvents.BadBlock, "Program of page {Page} failed; retiring block {Block}", ex.Page, block);
                RetireBlock(block, head);
                continue;
            }

            _seq++;
            head.WritePointer++;
            _blocks.Written[block] = head.WritePointer;
            _blocks.LastSequence[block] = _seq;
            if (txn != 0 && _openTxns.TryGetValue(txn, out var open))
            {
                open.NoteBlock(block);
            }

            if (head.WritePointer >= _ppb)
            {
                CloseHead(head);
            }

            return page;
        }

        throw new FlashFileSystemException("Too many consecutive program failures; the device is failing.");
    }

    private void CloseHead(Head head)
    {
        if (head.Block < 0)
        {
            return;
        }

        if (_blocks.State[head.Block] == BlockState.Open)
        {
            _blocks.State.Apply(head.Block, BlockTransition.Close);
        }

        _blocksSinceCheckpoint++;

        head.Block = -1;
        head.WritePointer = 0;
    }

    /// <summary>Opens a fresh block for a head: its reserved block if it has one, else the least-worn (hot) or most-worn (cold) free block.</summary>
    private void OpenBlock(Head head)
    {
        CloseHead(head);
        ReclaimEmptyBlocks();
        while (true)
        {
            int b = head.ReservedNext;
            head.ReservedNext = -1;
            if (b < 0 || _blocks.State[b] != BlockState.Free)
            {
                b = PickFreeOrReservedBlock(mostWorn: head.Kind == HeadKind.Cold);
            }

            if (b < 0)
            {
                throw new FlashNoSpaceException("No free erase block is left.");
            }

            if (!_blocks.Erased[b] && !EraseBlock(b))
            {
                continue;
            }

            _blocks.State.Apply(b, BlockTransition.Open);
            _blocks.Erased[b] = false;
            _blocks.ClearBlock(b);
            _blocks.FirstSequence[b] = _seq + 1;
            _blocks.LastSequence[b] = _seq;
            head.Block = b;
            head.WritePointer = 0;
            head.Inherited = false;
            if (head.Kind == HeadKind.Hot && _hotOpensSinceMaintain < int.MaxValue)
            {
                _hotOpensSinceMaintain++;
            }

            return;
        }
    }

    /// <summary>
    /// Returns closed blocks that hold no live data any more (and that a checkpoint covers, so nothing replays from
    /// them) to the free pool without erasing them yet: the erase happens when the block is opened. Keeping every such
    /// block in the pool lets the hot head really take the least-worn and the cold head the most-worn block.
    /// </summary>
    private void ReclaimEmptyBlocks()
    {
        for (int b = 0; b < _blocks.Count; b++)
        {
            if (_blocks.Valid[b] == 0 && b != _victim && Movable(b))
            {
                ReturnToPool(b);
            }
        }
    }

    /// <summary>Puts a reclaimed block (no live page left) back in the free pool, to be erased before it is used.</summary>
    private void ReturnToPool(int block)
    {
        _scrubQueue.Remove(block);
        _blocks.State.Apply(block, BlockTransition.Release);
        _blocks.Erased[block] = false;
        _blocks.ClearBlock(block);
        _gcBlocks++;
    }

    /// <summary>
    /// <see cref="PickFreeBlock"/>, or when only blocks reserved for the clean-mount check are left, one of those (its
    /// reservation dropped). Using one costs the next mount a recovery scan (it sees that block written), never data:
    /// better than refusing the write. -1 when no free block is left at all.
    /// </summary>
    private int PickFreeOrReservedBlock(bool mostWorn)
    {
        int b = PickFreeBlock(mostWorn);
        if (b < 0)
        {
            b = PickFreeBlock(mostWorn, ignoreReservations: true);
            ReleaseReservation(b);
        }

        return b;
    }

    private void ReleaseReservation(int block)
    {
        if (block < 0)
        {
            return;
        }

        if (_hot.ReservedNext == block)
        {
            _hot.ReservedNext = -1;
        }

        if (_cold.ReservedNext == block)
        {
            _cold.ReservedNext = -1;
        }

        if (_checkpointNext == block)
        {
            _checkpointNext = -1;
        }
    }

    /// <summary>
    /// The free block a head opens next: the least-worn one for new writes; for the cold head (relocated, resting data)
    /// the most-worn one whose erase would not set a new device maximum, so that data which will rest a long time lands
    /// on a worn block without pushing that block further ahead of all others (when every free block is at the
    /// maximum, the least-worn one).
    /// </summary>
    private int PickFreeBlock(bool mostWorn, bool ignoreReservations = false)
    {
        double cap = mostWorn ? EraseCounts().Max - 1.0 : double.MaxValue;
        int best = -1;
        for (int b = 0; b < _blocks.Count; b++)
        {
            if (_blocks.State[b] != BlockState.Free
                || (!ignoreReservations && (b == _hot.ReservedNext || b == _cold.ReservedNext || b == _checkpointNext)))
            {
                continue;
            }

            if (best < 0)
            {
                best = b;
                continue;
            }

            uint ec = _blocks.EraseCount[b], bestEc = _blocks.EraseCount[best];
            bool better;
            if (!mostWorn)
            {
                better = ec < bestEc;
            }
            else if (bestEc > cap)
            {
                better = ec < bestEc;
            }
            else
            {
                better = ec > bestEc && ec <= cap;
            }

            // Among equally worn blocks prefer one already erased: no erase on the write path.
            if (better || (ec == bestEc && _blocks.Erased[b] && !_blocks.Erased[best]))
            {
                best = b;
            }
        }

        return best;
    }

    /// <summary>Highest and mean erase count over the blocks the log uses (good blocks outside the anchors).</summary>
    private (uint Max, double Mean) EraseCounts()
    {
        uint max = 0;
        long sum = 0;
        int good = 0;
        for (int b = 0; b < _blocks.Count; b++)
        {
            if (_blocks.IsUsable(b) && _blocks.State[b] != BlockState.Anchor)
            {
                max = Math.Max(max, _blocks.EraseCount[b]);
                sum += _blocks.EraseCount[b];
                good++;
            }
        }

        return (max, good == 0 ? 0 : (double)sum / good);
    }

    private int FreeBlockCount() => _blocks.State.FreeCount;

    /// <summary>Erases a block; a failed erase retires it. Returns whether the block is now erased and usable.</summary>
    private bool EraseBlock(int block)
    {
        try
        {
            _device.Erase(block);
            _blocks.EraseCount[block]++;
            _blocks.Erased[block] = true;
            NoteErasedHere(block);
            return true;
        }
        catch (EraseFailedException)
        {
            _blocks.EraseCount[block]++;
            MarkBadNow(block);
            return false;
        }
        catch (BadBlockException)
        {
            _blocks.State.Apply(block, BlockTransition.MarkBad);
            _goodBlocksCache = -1;
            return false;
        }
    }

    private void MarkBadNow(int block)
    {
        _log.LogWarning(FfsEvents.BadBlock, "Block {Block} retired as bad", block);
        FfsMetrics.BadBlockRetired(this);
        _blocks.State.Apply(block, BlockTransition.MarkBad);
        _blocks.ClearBlock(block);
        _goodBlocksCache = -1;
        try
        {
            _device.MarkBad(block);
        }
        catch (FlashException ex) when (ex is not PowerLossException)
        {
            _log.LogWarning(FfsEvents.BadBlock, ex, "Could not write the bad-block marker of block {Block}", block);
        }
    }

    /// <summary>
    /// Takes a block whose program failed out of service: its live pages are moved, and it is marked bad at the next
    /// checkpoint (until then its older pages may still be needed to replay the log after a power cut).
    /// </summary>
    private void RetireBlock(int block, Head head)
    {
        if (head.Block == block)
        {
            head.Block = -1;
            head.WritePointer = 0;
        }

        _blocks.State.Apply(block, BlockTransition.Retire);
        _goodBlocksCache = -1;
        FfsMetrics.BadBlockRetired(this);
        foreach (int page in _blocks.ValidPages(block).ToArray())
        {
            RelocatePage(page);
        }
    }
}

using Flash.Drivers;
using Flash.Ffs.Blocks;
using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>The log: heads and page appends over the block pool; a failed program retires the block and writes again elsewhere.</summary>
public sealed partial class FlashFileSystem : IBlockRetirementSink
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
            if (!_pool.ReadyToProgram(block, page, head.Inherited))
            {
                // Not erased after all: close the block (its pages so far keep their data) and write elsewhere.
                _pool.DistrustErased(block);
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

        _pool.CloseIfOpen(head.Block);
        _blocksSinceCheckpoint++;

        head.Block = -1;
        head.WritePointer = 0;
    }

    /// <summary>Opens a fresh block for a head: its reserved block if it has one, else the least-worn (hot) or most-worn (cold) free block.</summary>
    private void OpenBlock(Head head)
    {
        CloseHead(head);
        _pool.ReclaimEmptyBlocks(_gc);
        while (true)
        {
            int b = head.ReservedNext;
            head.ReservedNext = -1;
            if (b < 0 || _blocks.State[b] != BlockState.Free)
            {
                b = _pool.PickFreeOrReserved(mostWorn: head.Kind == HeadKind.Cold);
            }

            if (b < 0)
            {
                throw new FlashNoSpaceException("No free erase block is left.");
            }

            if (!_pool.EnsureErased(b))
            {
                continue;
            }

            _pool.Open(b, _seq);
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
    /// Takes a block whose program failed out of service (<see cref="BlockPool.Retire"/>); the pool reports it back
    /// through <see cref="IBlockRetirementSink.BlockRetired"/>, which moves its live pages.
    /// </summary>
    private void RetireBlock(int block, Head head)
    {
        if (head.Block == block)
        {
            head.Block = -1;
            head.WritePointer = 0;
        }

        _pool.Retire(block);
    }

    /// <summary>A retired block's live pages are moved (the index points at them), and it is counted.</summary>
    void IBlockRetirementSink.BlockRetired(int block)
    {
        FfsMetrics.BadBlockRetired(this);
        foreach (int page in _blocks.ValidPages(block).ToArray())
        {
            RelocatePage(page);
        }
    }

    /// <summary>A block marked bad is counted.</summary>
    void IBlockRetirementSink.BlockMarkedBad(int block) => FfsMetrics.BadBlockRetired(this);
}

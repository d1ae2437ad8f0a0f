using Flash.Drivers;
using Flash.Ffs.Index;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Blocks;

/// <summary>
/// Owns the block table: which blocks are free, reserved, erased, written, retiring or bad. Every block state change
/// goes through one of its members, each a named transition checked by <see cref="BlockTransitions"/> (an illegal one
/// throws <see cref="IllegalBlockTransitionException"/> before anything changes); the only other writer is the
/// checkpoint decoder loading the table at mount (<see cref="BlockStates.Restore"/>). It chooses free blocks
/// (<see cref="FreeBlockChoice"/>), erases them before use, keeps the checkpoint's reservations, and takes failing
/// blocks out of service. It calls only the device; what the layers above must do about a block leaving service goes
/// through <see cref="IBlockRetirementSink"/>, and which empty blocks may be reclaimed through <see cref="IReclaimPolicy"/>.
/// </summary>
internal sealed class BlockPool
{
    private readonly IFlashDevice _device;
    private readonly ILogger _log;
    private readonly IBlockRetirementSink _retirement;
    private readonly IReclaimPolicy _reclaim;
    private readonly EraseCheck _check;

    /// <summary>Good blocks outside the anchors; -1 when a block went bad and they must be counted again.</summary>
    private int _goodBlocks = -1;

    public BlockPool(IFlashDevice device, ILogger log, IBlockRetirementSink retirement, IReclaimPolicy reclaim)
    {
        _device = device;
        _log = log;
        _retirement = retirement;
        _reclaim = reclaim;
        _check = new EraseCheck(device, log);
        Table = new BlockTable(device.Geometry.BlockCount, device.Geometry.PagesPerBlock);
    }

    /// <summary>The per-block bookkeeping (read it freely; change states only through this pool).</summary>
    public BlockTable Table { get; }

    /// <summary>The blocks the last checkpoint reserved for the heads and the next checkpoint.</summary>
    public BlockReservations Reservations { get; } = new();

    /// <summary>Blocks in the free pool (kept as states change, no walk).</summary>
    public int FreeCount => Table.State.FreeCount;

    /// <summary>Good blocks outside the anchors, counted again only after a block left service.</summary>
    public int GoodBlocks
    {
        get
        {
            if (_goodBlocks < 0)
            {
                _goodBlocks = FreeBlockChoice.GoodBlocks(Table);
            }

            return _goodBlocks;
        }
    }

    /// <summary>Pages found not erased where they should have been, since mount.</summary>
    public long NotErasedFound => _check.NotErasedFound;

    /// <summary>RAM held: this object, the table, the reservations and the erase check's buffers.</summary>
    public long RamBytes => RamSize.Object((7 * RamSize.Reference) + 4) + Table.RamBytes + BlockReservations.RamBytes + _check.RamBytes;

    /// <summary>The free block to open next (<see cref="FreeBlockChoice.PickFree"/>); -1 when none is left.</summary>
    public int PickFree(bool mostWorn, bool ignoreReservations = false) => FreeBlockChoice.PickFree(Table, Reservations, mostWorn, ignoreReservations);

    /// <summary>
    /// <see cref="PickFree"/>, or when only reserved blocks are left, one of those (its reservation dropped). Using one
    /// costs the next mount a recovery scan (it sees that block written), never data: better than refusing the write.
    /// -1 when no free block is left at all.
    /// </summary>
    public int PickFreeOrReserved(bool mostWorn)
    {
        int b = PickFree(mostWorn);
        if (b < 0)
        {
            b = PickFree(mostWorn, ignoreReservations: true);
            Reservations.Drop(b);
        }

        return b;
    }

    /// <summary>An erased, unreserved free block other than <paramref name="exclude"/> (<see cref="FreeBlockChoice.PickReservable"/>).</summary>
    public int PickReservable(bool mostWorn, int exclude) => FreeBlockChoice.PickReservable(Table, Reservations, mostWorn, exclude);

    /// <summary>Highest and mean erase count over the good blocks outside the anchors.</summary>
    public (uint Max, double Mean) EraseCounts() => FreeBlockChoice.EraseCounts(Table);

    /// <summary>Erases a block; a failed erase takes it out of service. Returns whether it is now erased and usable.</summary>
    public bool Erase(int block)
    {
        try
        {
            _device.Erase(block);
            Table.EraseCount[block]++;
            Table.Erased[block] = true;
            _check.NoteErased(block);
            return true;
        }
        catch (EraseFailedException)
        {
            Table.EraseCount[block]++;
            MarkBad(block);
            return false;
        }
        catch (BadBlockException)
        {
            MarkFoundBad(block);
            return false;
        }
    }

    /// <summary>Erases <paramref name="block"/> unless it is known erased; false when the erase failed (the block is out of service).</summary>
    public bool EnsureErased(int block) => Table.Erased[block] || Erase(block);

    /// <summary>
    /// Whether <paramref name="page"/> of <paramref name="block"/> can be programmed now (<see cref="EraseCheck"/>).
    /// A block the device reports bad is taken out of service; one found not erased must be left by the caller (it is
    /// erased before its next use).
    /// </summary>
    public bool ReadyToProgram(int block, int page, bool inherited)
    {
        if (_check.NeedsNoCheck(block, page, inherited))
        {
            return true;
        }

        if (_device.IsBad(block))
        {
            _log.LogWarning(FfsEvents.BadBlock, "Block {Block} is marked bad on the device; it is no longer used", block);
            MarkFoundBad(block);
            return false;
        }

        return _check.Verify(block, page, inherited);
    }

    /// <summary>Notes that a block's erased state cannot be trusted any more (a page in it was found written).</summary>
    public void DistrustErased(int block) => Table.Erased[block] = false;

    /// <summary>Format: a block the device reports bad becomes Bad; every other one is erased into the free pool.</summary>
    public void Format(int block)
    {
        if (_device.IsBad(block))
        {
            Table.State.Apply(block, BlockTransition.MarkBad);
            _goodBlocks = -1;
        }
        else
        {
            Table.State.Restore(block, BlockState.Free);
            Erase(block);
        }
    }

    /// <summary>A head starts writing into free <paramref name="block"/>; its first page will carry <paramref name="lastSequence"/> + 1.</summary>
    public void Open(int block, ulong lastSequence)
    {
        Table.State.Apply(block, BlockTransition.Open);
        Table.Erased[block] = false;
        Table.ClearBlock(block);
        Table.FirstSequence[block] = lastSequence + 1;
        Table.LastSequence[block] = lastSequence;
    }

    /// <summary>A head's block is closed (Open → Full); nothing when the block already left that state (it was retired).</summary>
    public void CloseIfOpen(int block)
    {
        if (Table.State[block] == BlockState.Open)
        {
            Table.State.Apply(block, BlockTransition.Close);
        }
    }

    /// <summary>Puts a block with no live page back in the free pool, its bookkeeping cleared, to be erased before use.</summary>
    public void ReturnToPool(int block)
    {
        Table.State.Apply(block, BlockTransition.Release);
        Table.Erased[block] = false;
        Table.ClearBlock(block);
    }

    /// <summary>
    /// Returns closed blocks that hold no live data any more to the free pool without erasing them yet (the erase
    /// happens when the block is opened), where <see cref="IReclaimPolicy"/> allows it. Keeping every such block in the
    /// pool lets the hot head really take the least-worn and the cold head the most-worn block.
    /// </summary>
    public void ReclaimEmptyBlocks()
    {
        for (int b = 0; b < Table.Count; b++)
        {
            if (Table.Valid[b] == 0 && _reclaim.MayReclaim(b))
            {
                ReturnToPool(b);
                _reclaim.Reclaimed(b);
            }
        }
    }

    /// <summary>Claims an erased free block for checkpoint pages, its bookkeeping cleared.</summary>
    public void ClaimForCheckpoint(int block)
    {
        Table.State.Apply(block, BlockTransition.AssignCheckpoint);
        Table.Erased[block] = false;
        Table.ClearBlock(block);
    }

    /// <summary>The old checkpoint's block goes back to the pool as checkpoint blocks (a new checkpoint failed before its anchor).</summary>
    public void ReinstateCheckpointBlock(int block) => Table.State.Apply(block, BlockTransition.AssignCheckpoint);

    /// <summary>A checkpoint block nothing needs any more goes back to the free pool (its pages stay until the erase).</summary>
    public void ReleaseCheckpointBlock(int block)
    {
        Table.State.Apply(block, BlockTransition.Release);
        Table.Erased[block] = false;
    }

    /// <summary>
    /// A block of an abandoned checkpoint: its pages took sequence numbers up to <paramref name="lastSequence"/> that
    /// recovery must still find, so it is kept as a full block until the next checkpoint covers it.
    /// </summary>
    public void AbandonCheckpointBlock(int block, ulong lastSequence)
    {
        Table.State.Apply(block, BlockTransition.AbandonCheckpoint);
        Table.Erased[block] = false;
        Table.LastSequence[block] = lastSequence;
    }

    /// <summary>One of the two anchor blocks is taken (format, mount).</summary>
    public void AssignAnchor(int block) => Table.State.Apply(block, BlockTransition.AssignAnchor);

    /// <summary>An erased anchor block starts taking anchor pages.</summary>
    public void StartAnchor(int block)
    {
        Table.State.Apply(block, BlockTransition.AssignAnchor);
        Table.Erased[block] = false;
    }

    /// <summary>
    /// Recovery found pages with sequence numbers <paramref name="first"/> to <paramref name="last"/> written in
    /// <paramref name="block"/> after the checkpoint: it is full now and unmovable until the next checkpoint covers
    /// it. A block the checkpoint had as full, or as free and not erased, was erased on the way: its count goes up.
    /// </summary>
    public void WrittenSinceCheckpoint(int block, ulong first, ulong last)
    {
        var state = Table.State[block];
        if ((state == BlockState.Free && !Table.Erased[block]) || state == BlockState.Full)
        {
            Table.EraseCount[block]++;
        }

        if (state is BlockState.Free or BlockState.Full)
        {
            Table.FirstSequence[block] = first;
        }

        Table.State.Apply(block, BlockTransition.WrittenSinceCheckpoint);
        Table.LastSequence[block] = last;
    }

    /// <summary>After an unclean shutdown a free block may have been half-erased or half-written: each is erased before use.</summary>
    public void DistrustErasedFreeBlocks()
    {
        for (int b = 0; b < Table.Count; b++)
        {
            if (Table.State[b] == BlockState.Free)
            {
                Table.Erased[b] = false;
            }
        }
    }

    /// <summary>
    /// Takes a block whose program failed out of service: it is marked bad at the next checkpoint (until then its
    /// older pages may still be needed to replay the log after a power cut). <see cref="IBlockRetirementSink.BlockRetired"/>
    /// then moves its live pages.
    /// </summary>
    public void Retire(int block)
    {
        Table.State.Apply(block, BlockTransition.Retire);
        _goodBlocks = -1;
        _retirement.BlockRetired(block);
    }

    /// <summary>Marks a failed (or finished retiring) block bad in the table and, where it still can, on the chip.</summary>
    public void MarkBad(int block)
    {
        _log.LogWarning(FfsEvents.BadBlock, "Block {Block} retired as bad", block);
        _retirement.BlockMarkedBad(block);
        Table.State.Apply(block, BlockTransition.MarkBad);
        Table.ClearBlock(block);
        _goodBlocks = -1;
        try
        {
            _device.MarkBad(block);
        }
        catch (FlashException ex) when (ex is not PowerLossException)
        {
            _log.LogWarning(FfsEvents.BadBlock, ex, "Could not write the bad-block marker of block {Block}", block);
        }
    }

    /// <summary>A block the device already reports bad: out of service, nothing written.</summary>
    private void MarkFoundBad(int block)
    {
        Table.State.Apply(block, BlockTransition.MarkBad);
        _goodBlocks = -1;
    }
}

using Flash.Drivers;
using Flash.Ffs.Blocks;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Transactions;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Log;

/// <summary>
/// The log: the hot and cold heads, the sequence counter and appending pages over the block pool. A failed program
/// retires the block (the pool reports it back here, and its live pages move through <see cref="ILogHost"/>) and the
/// page is written again elsewhere with the same sequence number.
/// </summary>
/// <remarks>
/// Invariants: sequence numbers strictly increase and each is used by exactly one programmed page (a failed program
/// does not use its number up, so recovery finds no gap); a head writes its block's pages in order; a head that fills
/// its block closes it. The log creates the <see cref="BlockPool"/> because it is the pool's retirement sink: a block
/// leaving service is the log's event first.
/// </remarks>
internal sealed class PageLog : IGcLog, IBlockRetirementSink
{
    /// <summary>Consecutive program failures one append tolerates before the device is taken as failing.</summary>
    private const int MaxAttempts = 16;

    private readonly PageIo _io;
    private readonly BlockTable _blocks;
    private readonly ILogger _logger;
    private readonly ILogHost _host;
    private readonly int _ppb;
    private ILogCheckpoint? _checkpoint;

    /// <summary>The ordinal the next self-contained page (transaction 0) gets: its place among this mount's (tag version 4).</summary>
    private ushort _selfContainedOrdinal;

    public PageLog(IFlashDevice device, PageIo io, ILogger logger, ILogHost host)
    {
        _io = io;
        _logger = logger;
        _host = host;
        Pool = new BlockPool(device, logger, retirement: this);
        _blocks = Pool.Table;
        _ppb = Pool.PagesPerBlock;
        Hot = new Head(HeadKind.Hot, Pool.Reservations);
        Cold = new Head(HeadKind.Cold, Pool.Reservations);
    }

    /// <summary>The block pool the heads write into.</summary>
    public BlockPool Pool { get; }

    /// <summary>User writes and metadata.</summary>
    public Head Hot { get; }

    /// <summary>Garbage-collection, wear-levelling and scrub copies.</summary>
    public Head Cold { get; }

    /// <summary>
    /// The sequence number of the newest page programmed. Writers of pages outside the heads (checkpoint, anchor)
    /// program with <c>Sequence + 1</c> and advance it once the program succeeded; recovery sets it.
    /// </summary>
    public ulong Sequence { get; set; }

    /// <summary>RAM held: this object and the two heads (the page buffer is the page I/O's).</summary>
    public static long RamBytes => RamSize.Object((8 * RamSize.Reference) + 8 + 4 + 2) + (RamSize.Object(RamSize.Reference + 16) * 2);

    /// <summary>The checkpoint above the log, told of closed blocks (connected once it exists).</summary>
    private ILogCheckpoint Checkpoint => _checkpoint ?? throw new InvalidOperationException("The log's checkpoint is not connected.");

    /// <summary>Connects the checkpoint (created after the log, whose pool and heads it records).</summary>
    /// <param name="checkpoint">The checkpoint writer.</param>
    public void ConnectCheckpoint(ILogCheckpoint checkpoint) => _checkpoint = checkpoint;

    /// <summary>
    /// Appends one page to <paramref name="head"/>'s block, opening a new block when needed, and returns its number.
    /// A page of <paramref name="txn"/> notes its block there (a checkpoint lists an open transaction's blocks).
    /// </summary>
    public int Append(Head head, PageKind kind, PageFlags flags, uint objectId, uint chunk, PendingTxn? txn, ReadOnlySpan<byte> payload)
    {
        uint txnId = txn?.Id ?? 0;
        for (int attempt = 0; attempt < MaxAttempts; attempt++)
        {
            if (head.Block < 0 || head.WritePointer >= _ppb)
            {
                OpenBlock(head);
            }

            int block = head.Block;
            int page = (block * _ppb) + head.WritePointer;
            if (!Pool.ReadyToProgram(block, page, head.Inherited))
            {
                // Not erased after all: close the block (its pages so far keep their data) and write elsewhere.
                Pool.DistrustErased(block);
                head.WritePointer = _ppb;
                continue;
            }

            head.Inherited = false;

            // The ordinal counts the pages of the transaction (or the mount's self-contained pages) that programmed, so
            // recovery can tell how many of them a damaged tag took (TxnPageAccounting); a failed program keeps it.
            var tag = new PageTag
            {
                Kind = kind,
                Flags = txn is { LastPageMeta: true } ? flags | PageFlags.AfterMeta : flags,
                ObjectId = objectId,
                Chunk = chunk,
                TxnId = txnId,
                Sequence = Sequence + 1,
                Ordinal = txn?.PageOrdinal ?? _selfContainedOrdinal,
            };
            try
            {
                _io.Program(page, payload, tag);
            }
            catch (ProgramFailedException ex)
            {
                // The number is not used up: the page goes again elsewhere with it, so recovery finds no gap (a
                // missing number stops its replay). The failed page lies in a retired block and never reads back valid.
                head.WritePointer++;
                _logger.LogWarning(FfsEvents.BadBlock, "Program of page {Page} failed; retiring block {Block}", ex.Page, block);
                RetireBlock(block, head);
                continue;
            }

            Sequence++;
            head.WritePointer++;
            _blocks.Written[block] = head.WritePointer;
            _blocks.LastSequence[block] = Sequence;
            if (txnId != 0)
            {
                txn!.NoteBlock(block);
                txn.PageOrdinal++;
                txn.LastPageMeta = kind == PageKind.Meta;
            }
            else
            {
                _selfContainedOrdinal++;
            }

            if (head.WritePointer >= _ppb)
            {
                CloseHead(head);
            }

            return page;
        }

        throw new FlashFileSystemException("Too many consecutive program failures; the device is failing.");
    }

    /// <summary>Closes the block <paramref name="head"/> writes, if any (it can then move or be covered by a checkpoint).</summary>
    public void CloseHead(Head head)
    {
        if (head.Block < 0)
        {
            return;
        }

        Pool.CloseIfOpen(head.Block);
        Checkpoint.BlockClosed();

        head.Block = -1;
        head.WritePointer = 0;
    }

    /// <summary>Opens a fresh block for a head: its reserved block if it has one, else the least-worn (hot) or most-worn (cold) free block.</summary>
    private void OpenBlock(Head head)
    {
        CloseHead(head);
        Pool.ReclaimEmptyBlocks(_host.ReclaimPolicy);
        while (true)
        {
            int b = head.ReservedNext;
            head.ReservedNext = -1;
            if (b < 0 || _blocks.State[b] != BlockState.Free)
            {
                b = Pool.PickFreeOrReserved(mostWorn: head.Kind == HeadKind.Cold);
            }

            if (b < 0)
            {
                throw new FlashNoSpaceException("No free erase block is left.");
            }

            if (!Pool.EnsureErased(b))
            {
                continue;
            }

            Pool.Open(b, Sequence);
            head.Block = b;
            head.WritePointer = 0;
            head.Inherited = false;
            if (head.Kind == HeadKind.Hot)
            {
                _host.HotBlockOpened();
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

        Pool.Retire(block);
    }

    /// <summary>A retired block's live pages are moved (the layers above know what points at them), and it is counted.</summary>
    void IBlockRetirementSink.BlockRetired(int block)
    {
        _host.BlockLeftService();
        foreach (int page in _blocks.ValidPages(block).ToArray())
        {
            _host.MoveLivePage(page);
        }
    }

    /// <summary>A block marked bad is counted.</summary>
    void IBlockRetirementSink.BlockMarkedBad(int block) => _host.BlockLeftService();

    /// <inheritdoc/>
    ulong IGcLog.Sequence => Sequence;

    /// <inheritdoc/>
    ulong IGcLog.CheckpointSequence => Checkpoint.CheckpointSequence;

    /// <inheritdoc/>
    bool IGcLog.ColdHeadFull => Cold.Block < 0 || Cold.WritePointer >= _ppb;

    /// <inheritdoc/>
    int IGcLog.ColdRoomBeforeErase
    {
        get
        {
            int b = Cold.ReservedNext;
            if (b < 0 || _blocks.State[b] != BlockState.Free)
            {
                b = Pool.PickFree(mostWorn: true);
            }

            return b >= 0 && !_blocks.Erased[b] ? (Cold.Block < 0 ? 0 : Math.Max(0, _ppb - Cold.WritePointer)) : int.MaxValue;
        }
    }

    /// <inheritdoc/>
    void IGcLog.CloseHeadsIn(int block)
    {
        if (Hot.Block == block)
        {
            CloseHead(Hot);
        }

        if (Cold.Block == block)
        {
            CloseHead(Cold);
        }
    }

    /// <inheritdoc/>
    void IGcLog.Relocate(int page) => _host.MoveLivePage(page);
}

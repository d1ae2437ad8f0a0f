using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs.Blocks;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Ffs.Log;

/// <summary>
/// The log and the parts above it, wired by hand over a small simulated device (what the facade wires in a mounted
/// volume): <see cref="PageLog"/>, the index with a root and one file, <see cref="InlinePageRefs"/>,
/// <see cref="TransactionTable"/> and <see cref="PageRelocator"/>. The host and transaction host count what the
/// log and the transactions report upwards.
/// </summary>
internal sealed class LogRig : ILogHost, ITransactionHost, IReclaimPolicy
{
    public const int Blocks = 16;
    public const int PagesPerBlock = 8;

    public LogRig()
    {
        var options = new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, PagesPerBlock, Blocks), Seed = 11 };
        Device = FlashSimulator.Create(options);
        Io = new PageIo(Device);
        Log = new PageLog(Device, Io, NullLogger.Instance, this);
        for (int b = 0; b < Blocks; b++)
        {
            Log.Pool.Format(b);
        }

        Index = new IndexMutator(new NodeTable());
        Root = new Node(1, 0, "", isDirectory: true);
        Index.AddUnlisted(Root);
        File = new Node(2, 1, "f", isDirectory: false);
        Index.Create(Root, File);
        Inline = new InlinePageRefs(Log.Pool.Table);
        Txns = new TransactionTable(Log, Index, Inline, Io.PayloadSize, this);
        Relocator = new PageRelocator(Log, Io, Index, Txns, Inline, Lost, NullLogger.Instance);
    }

    public FlashSimulator Device { get; }

    public PageIo Io { get; }

    public PageLog Log { get; }

    public IndexMutator Index { get; }

    public Node Root { get; }

    public Node File { get; }

    public InlinePageRefs Inline { get; }

    public TransactionTable Txns { get; }

    public PageRelocator Relocator { get; }

    public HashSet<(uint Id, uint Chunk)> Lost { get; } = [];

    public BlockTable Table => Log.Pool.Table;

    public int HotOpens { get; private set; }

    public int Closes { get; private set; }

    public int LeftService { get; private set; }

    public List<int> Moved { get; } = [];

    public List<uint> Ended { get; } = [];

    public int Commits { get; private set; }

    public ulong CheckpointSequence { get; set; }

    IReclaimPolicy ILogHost.ReclaimPolicy => this;

    /// <summary>Writes chunk <paramref name="chunk"/> of <see cref="File"/> to the hot head and maps it, as a committed write leaves it.</summary>
    public int WriteChunk(uint chunk, byte fill, PendingTxn? txn = null)
    {
        var data = new byte[Io.PayloadSize];
        Array.Fill(data, fill);
        int page = Log.Append(Log.Hot, Flash.Ffs.Format.PageKind.Data, Flash.Ffs.Format.PageFlags.None, File.Id, chunk, txn, data);
        Index.SetChunk(File, chunk, page);
        Table.SetValid(page);
        return page;
    }

    /// <summary>The payload and tag a page reads back with.</summary>
    public (byte[] Data, Flash.Ffs.Format.PageTag Tag) Read(int page)
    {
        var data = new byte[Io.PayloadSize];
        Assert.Equal(PageReadStatus.Ok, Io.Read(page, data, out var tag));
        return (data, tag);
    }

    void ILogHost.HotBlockOpened() => HotOpens++;

    void ILogHost.BlockClosed() => Closes++;

    void ILogHost.BlockLeftService() => LeftService++;

    void ILogHost.MoveLivePage(int page)
    {
        Moved.Add(page);
        Relocator.Relocate(page);
    }

    void ITransactionHost.Ended(PendingTxn txn) => Ended.Add(txn.Id);

    void ITransactionHost.Committed() => Commits++;

    bool IReclaimPolicy.MayReclaim(int block) => false;

    void IReclaimPolicy.Reclaimed(int block)
    {
    }
}

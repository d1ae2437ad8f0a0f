using Flash.Drivers;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;

namespace Flash.Tests.Ffs.Log;

/// <summary>
/// The log and the parts above it (<see cref="VolumeRig"/>) over a small simulated device, with one file in the root.
/// The rig stands in for the checkpoint above the log and the transactions: it counts the blocks the log closes and
/// the transactions that end and commit, and its <see cref="CheckpointSequence"/> is set by hand.
/// </summary>
internal sealed class LogRig : VolumeRig, ILogCheckpoint, ITransactionHost
{
    public const int Blocks = 16;
    public const int PagesPerBlock = 8;

    public LogRig()
        : base(new FlashGeometry(2048, 64, PagesPerBlock, Blocks), seed: 11, reclaimEmpty: false)
    {
        File = new Node(Ids.TakeEntry(), Root.Id, "f", isDirectory: false);
        Index.Create(Root, File);
        Log.ConnectCheckpoint(this);
        Txns.ConnectHost(this);
    }

    public Node File { get; }

    public int Closes { get; private set; }

    public List<uint> Ended { get; } = [];

    public int Commits { get; private set; }

    public ulong CheckpointSequence { get; set; }

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

    void ILogCheckpoint.BlockClosed() => Closes++;

    void ITransactionHost.Ended(PendingTxn txn) => Ended.Add(txn.Id);

    void ITransactionHost.Committed() => Commits++;
}

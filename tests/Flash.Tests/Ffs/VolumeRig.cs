using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs.Blocks;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Ffs;

/// <summary>
/// The lower components of a volume wired by hand over a simulated device, as the facade wires them in a mounted
/// volume: page I/O, the <see cref="PageLog"/> (with its pool, every block formatted, and its two heads), the index with
/// a root directory, the id counters, <see cref="InlinePageRefs"/>, the <see cref="TransactionTable"/>, the lost chunks
/// and the <see cref="PageRelocator"/>. The rig is the log's host (it counts what the log reports and relocates the
/// pages the log asks to move) and garbage collection's reclaim policy (<see cref="ReclaimEmpty"/>). The rigs of the
/// log and the checkpoint tests build on it; deterministic for a seed.
/// </summary>
internal class VolumeRig : ILogHost, IReclaimPolicy
{
    public VolumeRig(FlashGeometry geometry, ulong seed, bool reclaimEmpty)
    {
        ReclaimEmpty = reclaimEmpty;
        Device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, Seed = seed });
        Io = new PageIo(Device);
        Log = new PageLog(Device, Io, NullLogger.Instance, this);
        for (int b = 0; b < geometry.BlockCount; b++)
        {
            Log.Pool.Format(b);
        }

        Index = new IndexMutator(new NodeTable());
        Root = new Node(IdCounters.RootId, 0, "", isDirectory: true);
        Index.AddUnlisted(Root);
        Inline = new InlinePageRefs(Log.Pool.Table, geometry.PagesPerBlock, Io.PayloadSize);
        Txns = new TransactionTable(Log, Index, Inline, Ids, Io.PayloadSize);
        Relocator = new PageRelocator(Log, Io, Index, Txns, Inline, Lost, NullLogger.Instance);
    }

    public FlashSimulator Device { get; }

    public PageIo Io { get; }

    public PageLog Log { get; }

    public BlockPool Pool => Log.Pool;

    public Flash.Ffs.Wear.BlockTable Table => Log.Pool.Table;

    public Head Hot => Log.Hot;

    public Head Cold => Log.Cold;

    public IndexMutator Index { get; }

    public Node Root { get; }

    public IdCounters Ids { get; } = new();

    public InlinePageRefs Inline { get; }

    public TransactionTable Txns { get; }

    public LostChunks Lost => Index.Lost;

    public PageRelocator Relocator { get; }

    /// <summary>Whether empty blocks go back to the pool when the log opens a block or a checkpoint claims blocks.</summary>
    public bool ReclaimEmpty { get; }

    public int HotOpens { get; private set; }

    public int LeftService { get; private set; }

    public List<int> Moved { get; } = [];

    IReclaimPolicy ILogHost.ReclaimPolicy => this;

    void ILogHost.HotBlockOpened() => HotOpens++;

    void ILogHost.BlockLeftService() => LeftService++;

    void ILogHost.MoveLivePage(int page)
    {
        Moved.Add(page);
        Relocator.Relocate(page);
    }

    bool IReclaimPolicy.MayReclaim(int block) => ReclaimEmpty;

    void IReclaimPolicy.Reclaimed(int block)
    {
    }
}

using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Blocks;
using Flash.Ffs.Checkpoint;
using Flash.Ffs.Diagnostics;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Tests.Ffs.Checkpoint;

/// <summary>
/// A checkpoint writer and anchor store over the lower components of a volume (<see cref="VolumeRig"/>) with the
/// inputs they read built by hand: anchor blocks 0 and 1, an index with a root directory, no open transactions.
/// Deterministic: two harnesses given the same calls hold the same state.
/// </summary>
internal sealed class CheckpointHarness : VolumeRig
{
    public const int PagesPerBlock = 16;

    public CheckpointHarness(ulong seed = 1)
        : base(new FlashGeometry(2048, 64, PagesPerBlock, 64), seed, reclaimEmpty: true)
    {
        Anchors = NewAnchorStore();
        Writer = new CheckpointWriter(Io, Log, Index, Txns.Open, Ids, Anchors, metrics: default, new FlashFileSystemOptions(), NullLogger.Instance);
        Writer.ConnectReclaim(this);
        Log.ConnectCheckpoint(Writer);
        Txns.ConnectHost(Writer);
    }

    public AnchorStore Anchors { get; }

    public CheckpointWriter Writer { get; }

    /// <summary>The log's sequence counter.</summary>
    public ulong Sequence { get => Log.Sequence; set => Log.Sequence = value; }

    /// <summary>The id the next entry gets.</summary>
    public uint NextId => Ids.NextEntry;

    /// <summary>Checkpoints committed.</summary>
    public int Committed => (int)Writer.CheckpointsWritten;

    /// <summary>An anchor store over this device with blocks 0 and 1 as its anchor blocks (as format assigns them).</summary>
    public AnchorStore NewAnchorStore()
    {
        var store = new AnchorStore(Device, Io, Pool, NullLogger.Instance) { VolumeId = 0xF1A5, Label = "harness" };
        if (Pool.Table.State[0] != BlockState.Anchor)
        {
            Pool.AssignAnchor(0);
            Pool.AssignAnchor(1);
        }

        (store.Blocks[0], store.Blocks[1]) = (0, 1);
        return store;
    }

    /// <summary>Files in the root, each with a chunk map of <paramref name="chunks"/> made-up pages.</summary>
    public List<Node> AddFiles(int count, int chunks = 3)
    {
        var added = new List<Node>();
        for (int i = 0; i < count; i++)
        {
            var node = new Node(Ids.TakeEntry(), Root.Id, $"f{NextId:D4}", isDirectory: false) { ModificationSequence = Sequence };
            Index.Create(Root, node);
            Index.StartChunks(node);
            for (int c = 0; c < chunks; c++)
            {
                Index.SetChunk(node, (uint)c, 640 + (int)(node.Id * 7) + c);
            }

            Index.SetSize(node, chunks * 2048L);
            added.Add(node);
        }

        return added;
    }

    /// <summary>A new entry created now (its id is above every existing one).</summary>
    public Node Create(string name)
    {
        var node = new Node(Ids.TakeEntry(), Root.Id, name, isDirectory: false);
        Index.Create(Root, node);
        return node;
    }

    /// <summary>Each entry of an image as text, its chunk map as one page per chunk, sorted by id.</summary>
    public static string[] Entries(CheckpointImage image) => image.Entries
        .OrderBy(e => e.Id)
        .Select(e =>
        {
            string data = e.IsInline ? $"inline {e.InlinePage}@{e.InlineOffset}"
                : e.IsChunked ? "chunks " + string.Join(",", e.Extents.SelectMany(x => Enumerable.Range(0, x.Count).Select(k => $"{x.Logical + (uint)k}:{x.Page + k}")))
                : "none";
            return $"{e.Id} in {e.Parent} {(e.IsDirectory ? "dir" : "file")} {Convert.ToHexString(e.Name.AsSpan())} size {e.Size} seq {e.ModificationSequence} {data}";
        })
        .ToArray();

    /// <summary>The checkpoint the newest anchor on the device names, decoded.</summary>
    public CheckpointImage CurrentImage() => FlashFileSystem.ReadCheckpointImage(Device);
}

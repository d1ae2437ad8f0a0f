using System.Diagnostics;
using Flash.Drivers;
using Flash.Ffs.Blocks;
using Flash.Ffs.Checkpoint;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Transactions;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Ffs;

/// <summary>
/// A log-structured, power-loss-safe, wear-levelling file system on a raw <see cref="IFlashDevice"/>.
/// </summary>
/// <remarks>
/// <para>Every page written carries a 32-byte tag (in the spare area on NAND) with a global sequence number, the
/// file and chunk it holds, its transaction and CRCs. Changes become durable when their transaction's last page,
/// flagged commit, is programmed; at mount, a checkpoint of the whole index is read and only pages written after it
/// are replayed, in sequence order, applying committed transactions and dropping the rest.</para>
/// <para>All members are thread-safe: one lock serialises access to the device.</para>
/// </remarks>
public sealed partial class FlashFileSystem : IDisposable
{
    internal const uint RootId = IdCounters.RootId;

    private readonly Lock _lock = new();
    private readonly IFlashDevice _device;
    private readonly FlashGeometry _g;
    private readonly PageIo _io;
    private readonly FlashFileSystemOptions _options;
    private readonly ILogger _log;
    private readonly int _ppb;
    private readonly int _chunk;
    private readonly int _inlineMax;
    private readonly BlockTable _blocks;
    private readonly NodeTable _nodes;
    private readonly IndexMutator _index;
    private readonly PageLog _pageLog;
    private readonly InlinePageRefs _inline;
    private readonly TransactionTable _txns;
    private readonly PageRelocator _relocator;
    private readonly BlockPool _pool;
    private readonly GarbageCollector _gc;
    private readonly AnchorStore _anchors;
    private readonly CheckpointWriter _checkpoint;
    private readonly IdCounters _ids = new();
    private readonly int _reserveBlocks;
    private readonly byte[] _pageBuffer;
    private Node _root = null!;
    private bool _mounted;
    private string? _faultReason;

    // Counters since mount.
    private long _userBytes;
    private long _programmedAtMount;

    private FlashFileSystem(IFlashDevice device, FlashFileSystemOptions options)
    {
        _device = device;
        _g = device.Geometry;
        _io = new PageIo(device);
        _options = options;
        _log = options.Logger ?? (ILogger?)options.LoggerFactory?.CreateLogger<FlashFileSystem>() ?? NullLogger.Instance;
        _ppb = _g.PagesPerBlock;
        _chunk = _io.PayloadSize;
        _inlineMax = Math.Min(_chunk / 4, 1024);
        _pageLog = new PageLog(device, _io, _log, host: this);
        _pool = _pageLog.Pool;
        _blocks = _pool.Table;
        _reserveBlocks = options.ReservedBlocks ?? Math.Max(4, _g.BlockCount / 50);
        _pageBuffer = new byte[_chunk];
        _index = new IndexMutator(new NodeTable());
        _nodes = _index.Nodes;
        _inline = new InlinePageRefs(_blocks, _ppb, _chunk);
        _txns = new TransactionTable(_pageLog, _index, _inline, _ids, _chunk);
        _anchors = new AnchorStore(device, _io, _pool, _log);
        _pool.IntervalBlocks = options.CheckpointIntervalBlocks;
#if DEBUG
        // Issue 19: every page programmed after an anchor lies where the next recovery reads (the write pool).
        _io.BeforeProgram = page => _pool.CheckMayProgram(page / _ppb);
#endif
        _checkpoint = new CheckpointWriter(_io, _pageLog, _index, _txns.Open, _ids, _anchors, new VolumeMetrics(this), options, _log);
        _pageLog.ConnectCheckpoint(_checkpoint);
        _txns.ConnectHost(_checkpoint);
        _gc = new GarbageCollector(_pool, log: _pageLog, checkpoints: _checkpoint, options, _reserveBlocks, _log, pack: _inline);
        _checkpoint.ConnectReclaim(_gc);
        _relocator = new PageRelocator(_pageLog, _io, _index, _txns, _inline, _index.Lost, _log);
    }

    /// <summary>The device's geometry.</summary>
    public FlashGeometry Geometry => _g;

    /// <summary>The volume identifier written at format.</summary>
    public uint VolumeId { get => _anchors.VolumeId; private set => _anchors.VolumeId = value; }

    /// <summary>The volume label written at format.</summary>
    public string Label { get => _anchors.Label; private set => _anchors.Label = value; }

    /// <summary>Whether the volume is mounted and usable.</summary>
    public bool IsMounted => _mounted && _faultReason is null;

    /// <summary>Bytes of file data a page holds (the chunk size).</summary>
    public int ChunkSize => _chunk;

    /// <summary>Files up to this size are stored inline with their metadata, one page for name, attributes and data.</summary>
    public int InlineLimit => _inlineMax;

    /// <summary>The device the volume lives on.</summary>
    public IFlashDevice Device => _device;

    /// <summary>Formats a device: erases every good block and writes an empty volume. All data on the device is lost.</summary>
    /// <param name="device">The device or partition.</param>
    /// <param name="options">Volume id, label and progress callback.</param>
    /// <exception cref="FlashFileSystemException">The device is too small or has too few good blocks.</exception>
    public static void Format(IFlashDevice device, FormatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new FormatOptions();
        var fs = new FlashFileSystem(device, new FlashFileSystemOptions());
        fs.FormatCore(options);
    }

    /// <summary>Mounts the volume on a device: reads the newest checkpoint and replays what was written after it.</summary>
    /// <param name="device">The device or partition.</param>
    /// <param name="options">Logging, wear-levelling and GC options.</param>
    /// <returns>The mounted file system.</returns>
    /// <exception cref="FileSystemCorruptException">No valid volume was found; nothing on the device was changed.</exception>
    /// <exception cref="GeometryMismatchException">The volume was formatted for another geometry.</exception>
    public static FlashFileSystem Mount(IFlashDevice device, FlashFileSystemOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        var fs = new FlashFileSystem(device, options ?? new FlashFileSystemOptions());
        fs.MountCore();
        FfsMetrics.Track(fs);
        return fs;
    }

    /// <summary>Writes a final checkpoint so the next mount is fast, and releases the volume. Open handles are flushed.</summary>
    public void Unmount()
    {
        lock (_lock)
        {
            if (!_mounted)
            {
                return;
            }

            try
            {
                if (_faultReason is null && !_options.ReadOnly)
                {
                    foreach (var handle in _handles.ToArray())
                    {
                        handle.FlushCore();
                        handle.CloseCore();
                    }

                    ReclaimForUnmountCheckpoint();
                    _checkpoint.Write(forUnmount: true);
                }
            }
            finally
            {
                _mounted = false;
                FfsMetrics.Untrack(this);
                _log.LogInformation(FfsEvents.Unmounted, "Unmounted volume {VolumeId:X8}", VolumeId);
            }
        }
    }

    /// <summary>Unmounts the volume (see <see cref="Unmount"/>).</summary>
    public void Dispose() => Unmount();

    /// <summary>
    /// Writes a checkpoint of the committed state now, shortening the next mount. Files with unflushed writes are
    /// recorded as last flushed; a handle's writes stay uncommitted until it flushes. (After a rename of a file with
    /// unflushed writes, nothing is written until that handle flushes.)
    /// </summary>
    public void Sync()
    {
        lock (_lock)
        {
            using var timer = FfsMetrics.Time(this, "sync");
            EnsureWritable();
            if (_checkpoint.Coverage.CanCover())
            {
                Guarded(() => _checkpoint.Write(forUnmount: false));
            }
        }
    }

    /// <summary>Space, wear and activity figures of the mounted volume.</summary>
    /// <returns>The statistics.</returns>
    public FileSystemStatistics GetStatistics()
    {
        lock (_lock)
        {
            EnsureMounted();
            int good = 0, bad = 0, free = 0;
            long min = long.MaxValue, max = 0, sum = 0, validPages = 0;
            for (int b = 0; b < _blocks.Count; b++)
            {
                if (!_blocks.IsUsable(b))
                {
                    bad++;
                    continue;
                }

                good++;
                long ec = _blocks.EraseCount[b];
                min = Math.Min(min, ec);
                max = Math.Max(max, ec);
                sum += ec;
                validPages += _blocks.Valid[b];
                if (_blocks.State[b] == BlockState.Free)
                {
                    free++;
                }
            }

            long capacityPages = UsableCapacityPages();
            long ram = RamBytesLocked();

            return new FileSystemStatistics
            {
                CapacityBytes = capacityPages * _chunk,
                FreeBytes = Math.Max(0, capacityPages - LivePages()) * _chunk,
                UsedBytes = validPages * _chunk,
                GoodBlocks = good,
                BadBlocks = bad,
                FreeBlocks = free,
                EraseCountMin = good == 0 ? 0 : min,
                EraseCountMax = max,
                EraseCountMean = good == 0 ? 0 : (double)sum / good,
                UserBytesWritten = _userBytes,
                FlashBytesProgrammed = _device.Statistics.DataBytesProgrammed - _programmedAtMount,
                GcBlocksReclaimed = _gc.BlocksReclaimed,
                GcPagesMoved = _relocator.PagesMoved,
                WearLevelingMoves = _gc.WearLevelingMoves,
                PagesScrubbed = _gc.PagesScrubbed,
                CheckpointsWritten = _checkpoint.CheckpointsWritten,
                Entries = _nodes.Count,
                RamBytes = ram,
            };
        }
    }

    /// <summary>
    /// What the mounted file system holds in RAM, counted as a 64-bit .NET runtime lays it out (object headers,
    /// references, array headers, collection capacities): this object and its small parts, the page I/O and metadata
    /// buffers, the block table, the id table, every node with its name, chunk map or child list, the inline-page
    /// reference counts, open transactions, the bookkeeping sets and open handles.
    /// </summary>
    private long RamBytesLocked()
    {
        const int Ref = RamSize.Reference;

        // This object (over its partial files: 25 references, 2 eight-byte and 5 four-byte fields, a few flags), its
        // lock and label, the id counters; the device, options and logger belong to the caller. The log, relocation, transactions and
        // the checkpoint writer count their own state (heads, inline counts, open transactions, anchor store,
        // open-transaction coverage, the checkpoint in progress).
        long ram = RamSize.Object((24 * Ref) + (2 * 8) + (5 * 4) + 4) + RamSize.Object(32) + RamSize.String(Label.Length) + IdCounters.RamBytes;
        ram += _io.RamBytes;
        ram += PageLog.RamBytes + PageRelocator.RamBytes;                       // the log with its two heads, relocation
        ram += RamSize.Array(1, _pageBuffer.Length);
        ram += _checkpoint.RamBytes;
        ram += _pool.RamBytes;
        ram += _index.RamBytes;
        ram += _inline.RamBytes;                                                // inline-page reference counts
        ram += _txns.RamBytes;                                                  // open and spare transactions, metadata batch

        ram += _gc.RamBytes;
        ram += RamSize.List(Ref, _handles.Capacity);
        foreach (var h in _handles)
        {
            ram += h.RamBytes;
        }

        return ram;
    }

    /// <summary>Whether a file has open handles (the handle list is short; nodes keep no count, to stay small).</summary>
    private bool HasOpenHandles(Node node)
    {
        foreach (var h in _handles)
        {
            if (h.Node == node)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Erase count the file system keeps for a block (persisted in checkpoints).</summary>
    /// <param name="block">Block number.</param>
    /// <returns>The erase count.</returns>
    public long EraseCountOf(int block)
    {
        lock (_lock)
        {
            FlashGuard.Block(_g, block);
            return _blocks.EraseCount[block];
        }
    }

    private void EnsureMounted()
    {
        if (!_mounted)
        {
            throw new FlashUnmountedException("The volume is not mounted.");
        }

        if (_faultReason is not null)
        {
            throw new FlashUnmountedException($"The volume faulted ({_faultReason}) and must be mounted again.");
        }
    }

    private void EnsureWritable()
    {
        EnsureMounted();
        if (_options.ReadOnly)
        {
            throw new FlashReadOnlyException();
        }
    }

    /// <summary>Runs work that may write (sync, maintenance, fsck) under the fault policy (<see cref="FaultPolicy"/>).</summary>
    private void Guarded(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }
    }

    private T Guarded<T>(Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (FaultIfNeeded(ex))
        {
            throw;
        }
    }

    /// <summary>Exception filter: applies the fault policy to a failure leaving an operation, and lets it propagate.</summary>
    private bool FaultIfNeeded(Exception failure, bool changeStarted = false)
    {
        ApplyFaultPolicy(failure, changeStarted);
        return false;
    }

    /// <summary>Faults the volume when <see cref="FaultPolicy"/> says so (the first reason is kept); returns whether it is faulted.</summary>
    private bool ApplyFaultPolicy(Exception failure, bool changeStarted)
    {
        if (FaultPolicy.FaultReason(failure, changeStarted) is not { } reason)
        {
            return false;
        }

        if (_faultReason is null)
        {
            _faultReason = reason;
            _log.LogError(FfsEvents.Faulted, failure, "Volume faulted until remounted: {Reason}", reason);
        }

        return true;
    }

    private void Progress(string phase, long done, long total) => _options.Progress?.Invoke(new FlashProgress(phase, done, total));

    [Conditional("DEBUG")]
    private static void Assert(bool condition, string message) => Debug.Assert(condition, message);
}

/// <summary>Event ids of the file system's log messages.</summary>
public static class FfsEvents
{
    /// <summary>A volume was mounted.</summary>
    public static readonly EventId Mounted = new(1000, nameof(Mounted));

    /// <summary>A volume was unmounted.</summary>
    public static readonly EventId Unmounted = new(1001, nameof(Unmounted));

    /// <summary>Recovery replayed pages written after the last checkpoint.</summary>
    public static readonly EventId Recovery = new(1002, nameof(Recovery));

    /// <summary>A page that should have been erased was not; its block was closed and the write went elsewhere.</summary>
    public static readonly EventId NotErased = new(1023, nameof(NotErased));

    /// <summary>Recovery met damaged pages and left out the committed changes that may depend on them.</summary>
    public static readonly EventId RecoveryDropped = new(1003, nameof(RecoveryDropped));

    /// <summary>Garbage collection reclaimed a block.</summary>
    public static readonly EventId GarbageCollection = new(1010, nameof(GarbageCollection));

    /// <summary>Static wear levelling moved a cold block.</summary>
    public static readonly EventId WearLeveling = new(1011, nameof(WearLeveling));

    /// <summary>A checkpoint was written.</summary>
    public static readonly EventId Checkpoint = new(1012, nameof(Checkpoint));

    /// <summary>A block was retired as bad.</summary>
    public static readonly EventId BadBlock = new(1020, nameof(BadBlock));

    /// <summary>A page with correctable errors was scrubbed.</summary>
    public static readonly EventId Scrub = new(1021, nameof(Scrub));

    /// <summary>Stored data could not be read.</summary>
    public static readonly EventId DataCorrupt = new(1022, nameof(DataCorrupt));

    /// <summary>The volume faulted after a device failure.</summary>
    public static readonly EventId Faulted = new(1030, nameof(Faulted));
}

using Flash.Drivers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Ffs.Contexts;

/// <summary>
/// The contexts of one device: a system area with the <see cref="ContextTable"/> and two context areas, each holding a
/// complete software set (component files, the component map, configuration files). Reads come from the current
/// area, writes go to the alternate area; every change (file writes included) is committed together with the new
/// table in one atomic file-system transaction, so after a power cut the device shows either the old or the new state.
/// </summary>
/// <remarks>Paths given to the store are relative to an area, use '/' separators ("components/cpu.bin") and may not
/// contain "." or "..". Members are thread-safe (serialised by one lock) but the store itself never coordinates with
/// other devices; see <see cref="Mirror.RedundantPair"/> for that.</remarks>
public sealed class ContextStore : IDisposable
{
    private readonly Lock _lock = new();
    private readonly FlashFileSystem _fs;
    private readonly ILogger _log;
    private ContextTable _table;

    private ContextStore(FlashFileSystem fs, ContextTable table, ILogger log)
    {
        _fs = fs;
        _table = table;
        _log = log;
    }

    /// <summary>The file system the store lives on.</summary>
    public FlashFileSystem FileSystem => _fs;

    /// <summary>The device the store lives on.</summary>
    public IFlashDevice Device => _fs.Device;

    /// <summary>The committed context table.</summary>
    public ContextTable Table
    {
        get
        {
            lock (_lock)
            {
                return _table;
            }
        }
    }

    /// <summary>The current area.</summary>
    public ContextArea Current => Table.Current;

    /// <summary>The alternate area.</summary>
    public ContextArea Alternate => Table.Alternate;

    /// <summary>Formats a device with a fresh file system and an empty context layout (both areas invalid, area 0 current).</summary>
    /// <param name="device">The device; everything on it is lost.</param>
    /// <param name="options">File-system format options.</param>
    public static void Format(IFlashDevice device, FormatOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        FlashFileSystem.Format(device, options);
        var fs = FlashFileSystem.Mount(device);
        try
        {
            Initialize(fs, ContextTable.Initial);
        }
        finally
        {
            fs.Unmount();
        }
    }

    /// <summary>Mounts the file system of a device and reads its context table.</summary>
    /// <param name="device">The device.</param>
    /// <param name="options">Logging and file-system options.</param>
    /// <returns>The store.</returns>
    /// <exception cref="FileSystemCorruptException">The device holds no valid file system.</exception>
    /// <exception cref="ContextStoreNotFormattedException">The file system has no context layout.</exception>
    /// <exception cref="ContextTableCorruptException">Neither copy of the context table is valid.</exception>
    public static ContextStore Mount(IFlashDevice device, ContextStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        options ??= new ContextStoreOptions();
        var fs = FlashFileSystem.Mount(device, options.FileSystem);
        try
        {
            return Open(fs, options.Logger);
        }
        catch
        {
            fs.Unmount();
            throw;
        }
    }

    /// <summary>Opens the contexts of an already mounted file system (which the store then owns).</summary>
    /// <param name="fs">The mounted file system.</param>
    /// <param name="logger">Where events are logged.</param>
    /// <returns>The store.</returns>
    /// <exception cref="ContextStoreNotFormattedException">The file system has no context layout.</exception>
    /// <exception cref="ContextTableCorruptException">Neither copy of the context table is valid.</exception>
    public static ContextStore Open(FlashFileSystem fs, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(fs);
        var log = logger ?? NullLogger.Instance;
        if (!ContextTableCopies.HasLayout(fs))
        {
            throw new ContextStoreNotFormattedException("The file system has no context layout (/system, /ctx0, /ctx1).");
        }

        var table = ReadTable(fs, log);
        log.LogInformation(ContextEvents.Mounted, "Contexts of volume {VolumeId:X8}: {Table}", fs.VolumeId, table);
        return new ContextStore(fs, table, log);
    }

    /// <summary>Reads the newest valid context table of a mounted file system.</summary>
    /// <param name="fs">The file system.</param>
    /// <param name="logger">Where a damaged copy is reported.</param>
    /// <returns>The table.</returns>
    /// <exception cref="ContextTableCorruptException">Neither copy is valid.</exception>
    public static ContextTable ReadTable(FlashFileSystem fs, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(fs);
        return ContextTableCopies.ReadNewest(fs, logger);
    }

    /// <summary>Lays out the system and context areas on a mounted, empty file system with a given table (one atomic commit).</summary>
    internal static void Initialize(FlashFileSystem fs, ContextTable table) => ContextTableCopies.Initialize(fs, table);

    internal static string TablePath(ulong generation) => ContextTableCopies.PathFor(generation);

    /// <summary>Reads a file of the current context.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <returns>The content.</returns>
    /// <exception cref="FlashPathNotFoundException">No such file.</exception>
    /// <exception cref="FlashDataCorruptException">The file cannot be read back correctly.</exception>
    public byte[] ReadCurrent(string path) => Read(Current, path);

    /// <summary>Reads a file of the alternate context.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <returns>The content.</returns>
    public byte[] ReadAlternate(string path) => Read(Alternate, path);

    /// <summary>Reads a file of an area.</summary>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <returns>The content.</returns>
    public byte[] Read(ContextArea area, string path) => _fs.ReadAllBytes(Absolute(area, path));

    /// <summary>Whether a file or directory exists in an area.</summary>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <returns>True when it exists.</returns>
    public bool Exists(ContextArea area, string path) => _fs.Exists(Absolute(area, path));

    /// <summary>Lists every file of the current context, recursively, as sorted relative paths.</summary>
    /// <returns>The files.</returns>
    public IReadOnlyList<string> ListCurrent() => List(Current);

    /// <summary>Lists every file of the alternate context, recursively, as sorted relative paths.</summary>
    /// <returns>The files.</returns>
    public IReadOnlyList<string> ListAlternate() => List(Alternate);

    /// <summary>Lists every file of an area, recursively, as sorted relative paths.</summary>
    /// <param name="area">The area.</param>
    /// <returns>The files.</returns>
    public IReadOnlyList<string> List(ContextArea area) => ContextPaths.ListFiles(_fs, area);

    /// <summary>Writes (creates or replaces) a file in the alternate context; parent directories are created. The alternate becomes <see cref="ContextState.Writing"/>.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content.</param>
    /// <returns>The new table.</returns>
    public ContextTable WriteAlternate(string path, ReadOnlySpan<byte> data) => Write(Alternate, path, data);

    /// <summary>Writes several files into the alternate context in one atomic commit.</summary>
    /// <param name="files">Relative paths and contents.</param>
    /// <returns>The new table.</returns>
    public ContextTable WriteAlternate(IEnumerable<KeyValuePair<string, byte[]>> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return Apply(new ContextOperation(ContextOperationKind.Write, Alternate, files.ToArray()), null);
    }

    /// <summary>Writes a file into an area, which must not be the current one.</summary>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content.</param>
    /// <returns>The new table.</returns>
    /// <exception cref="CurrentContextWriteException"><paramref name="area"/> is current.</exception>
    public ContextTable Write(ContextArea area, string path, ReadOnlySpan<byte> data)
        => Apply(new ContextOperation(ContextOperationKind.Write, area, [new(path, data.ToArray())]), null);

    /// <summary>
    /// Writes configuration files into the <b>current</b> context in one atomic commit (configuration changes and
    /// their backups). Only paths under <see cref="ContextLayout.ConfigurationDirectory"/> are allowed: software in the
    /// current context is never written; the table's states are unchanged.
    /// </summary>
    /// <param name="files">Relative paths (<c>config/...</c>) and contents.</param>
    /// <returns>The new table.</returns>
    /// <exception cref="CurrentContextWriteException">A path is outside <c>config/</c>.</exception>
    public ContextTable WriteCurrentConfiguration(IEnumerable<KeyValuePair<string, byte[]>> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        return Apply(new ContextOperation(ContextOperationKind.WriteConfiguration, Current, files.ToArray()), null);
    }

    /// <summary>Deletes a file of the alternate context.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <returns>The new table.</returns>
    public ContextTable DeleteAlternate(string path) => Apply(new ContextOperation(ContextOperationKind.Delete, Alternate, Path: path), null);

    /// <summary>Deletes everything in the alternate context and marks it invalid.</summary>
    /// <returns>The new table.</returns>
    public ContextTable ClearAlternate() => Apply(new ContextOperation(ContextOperationKind.Clear, Alternate), null);

    /// <summary>Marks the alternate context complete (<see cref="ContextState.Valid"/>) with a version label.</summary>
    /// <param name="label">Version label, at most <see cref="ContextTable.MaxLabelBytes"/> UTF-8 bytes; null keeps the current label.</param>
    /// <returns>The new table.</returns>
    /// <exception cref="ContextStateException">The alternate is invalid (nothing was written into it).</exception>
    public ContextTable MarkAlternateComplete(string? label = null) => Apply(new ContextOperation(ContextOperationKind.MarkComplete, Label: label), null);

    /// <summary>Swaps current and alternate in one atomic commit; clears the alternate-boot flag.</summary>
    /// <param name="trial">Whether the new current runs on trial (<see cref="ContextState.Trial"/>) until <see cref="ConfirmCurrent"/>.</param>
    /// <returns>The new table.</returns>
    /// <exception cref="ContextStateException">The alternate is not valid.</exception>
    public ContextTable SwitchContexts(bool trial = false) => Apply(new ContextOperation(ContextOperationKind.Switch, Trial: trial), null);

    /// <summary>Sets the alternate-boot flag: the next boot(s) should run the alternate, at most <paramref name="retries"/> times.</summary>
    /// <param name="retries">Boot attempts allowed, 1 to 65535.</param>
    /// <returns>The new table.</returns>
    /// <exception cref="ContextStateException">The alternate is not valid.</exception>
    public ContextTable SetAlternateBoot(int retries = 1) => Apply(new ContextOperation(ContextOperationKind.SetAlternateBoot, Retries: retries), null);

    /// <summary>Clears the alternate-boot flag and its retry count.</summary>
    /// <returns>The new table.</returns>
    public ContextTable ClearAlternateBoot() => Apply(new ContextOperation(ContextOperationKind.ClearAlternateBoot), null);

    /// <summary>Uses up one alternate-boot retry; the flag clears itself when none is left.</summary>
    /// <returns>The new table.</returns>
    public ContextTable ConsumeBootRetry() => Apply(new ContextOperation(ContextOperationKind.ConsumeBootRetry), null);

    /// <summary>Confirms a current context that runs on trial (it becomes <see cref="ContextState.Valid"/>).</summary>
    /// <returns>The new table.</returns>
    public ContextTable ConfirmCurrent() => Apply(new ContextOperation(ContextOperationKind.ConfirmCurrent), null);

    /// <summary>Marks an area invalid (its files stay until cleared or overwritten). Invalidating the alternate also clears the alternate-boot flag.</summary>
    /// <param name="area">The area.</param>
    /// <returns>The new table.</returns>
    public ContextTable Invalidate(ContextArea area) => Apply(new ContextOperation(ContextOperationKind.Invalidate, area), null);

    /// <summary>Unmounts the file system.</summary>
    public void Unmount() => _fs.Unmount();

    /// <summary>Unmounts the file system.</summary>
    public void Dispose() => _fs.Unmount();

    /// <summary>Checks that an operation is allowed on the committed table and computes the table it would produce (without generation and sequence).</summary>
    internal ContextTable Validate(ContextOperation op) => ContextTransitions.Next(Table, op);

    /// <summary>Validates and commits an operation with its new table in one atomic file-system transaction.</summary>
    /// <param name="op">The change.</param>
    /// <param name="sequence">The mirrored transaction id to record, or null to keep the table's.</param>
    internal ContextTable Apply(ContextOperation op, ulong? sequence) => ApplyBatch([op], sequence);

    /// <summary>The table an operation would produce from a given table (without generation and sequence); throws what <see cref="Apply"/> would.</summary>
    /// <param name="table">The table before the change (a transaction's staged table).</param>
    /// <param name="op">The change.</param>
    internal static ContextTable Preview(ContextTable table, ContextOperation op) => ContextTransitions.Next(table, op);

    /// <summary>
    /// Validates and commits several operations, in order, with the one table they produce, in one atomic
    /// file-system transaction (a caller-held transaction of the redundant pair). Clearing an area is not batchable.
    /// </summary>
    /// <param name="ops">The changes.</param>
    /// <param name="sequence">The mirrored transaction id to record, or null to keep the table's.</param>
    internal ContextTable ApplyBatch(IReadOnlyList<ContextOperation> ops, ulong? sequence)
    {
        lock (_lock)
        {
            var before = _table;
            var next = ContextTransitions.NextAll(before, ops) with { Generation = before.Generation + 1, Sequence = sequence ?? before.Sequence };
            using var txn = _fs.BeginTransaction();
            ContextCommit.StageFiles(_fs, txn, ops);
            ContextTableCopies.Stage(txn, next);
            txn.Commit();
            _table = next;
            if (ops.Count == 1 && ops[0].Kind == ContextOperationKind.Switch)
            {
                _log.LogInformation(ContextEvents.Switched, "Volume {VolumeId:X8}: switched, now {Table}", _fs.VolumeId, next);
            }
            else
            {
                _log.LogDebug(ContextEvents.TableCommitted, "Volume {VolumeId:X8}: {Operation} committed, {Table}", _fs.VolumeId, ops.Count == 1 ? ops[0] : $"{ops.Count} operations", next);
            }

            return next;
        }
    }

    /// <summary>Replaces the committed table by one copied verbatim from another device (used by resynchronisation after the files were copied).</summary>
    internal void Reload()
    {
        lock (_lock)
        {
            _table = ReadTable(_fs, _log);
        }
    }

    // The static forwarders below (and Initialize, TablePath, Preview) are what src/Flash.Ffs/Mirror calls today; new
    // code calls ContextPaths, ContextTableCopies and ContextTransitions directly.
    internal static IEnumerable<FlashEntry> Walk(FlashFileSystem fs, string directory) => ContextPaths.Walk(fs, directory);

    internal static string Absolute(ContextArea area, string path) => ContextPaths.Absolute(area, path);
}

using Flash.Drivers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Ffs.Contexts;

/// <summary>Options for <see cref="ContextStore.Mount"/>.</summary>
public sealed class ContextStoreOptions
{
    /// <summary>Options of the underlying file system; defaults when null.</summary>
    public FlashFileSystemOptions? FileSystem { get; init; }

    /// <summary>Where context events are logged; nothing is logged when null.</summary>
    public ILogger? Logger { get; init; }
}

/// <summary>Event ids of the context layer's log messages.</summary>
public static class ContextEvents
{
    /// <summary>A context store was mounted.</summary>
    public static readonly EventId Mounted = new(2000, nameof(Mounted));

    /// <summary>A context table change was committed.</summary>
    public static readonly EventId TableCommitted = new(2001, nameof(TableCommitted));

    /// <summary>One copy of the context table is damaged; the other was used.</summary>
    public static readonly EventId TableCopyDamaged = new(2002, nameof(TableCopyDamaged));

    /// <summary>A write into the current context was refused.</summary>
    public static readonly EventId CurrentWriteRefused = new(2003, nameof(CurrentWriteRefused));

    /// <summary>Current and alternate were switched.</summary>
    public static readonly EventId Switched = new(2004, nameof(Switched));
}

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
        if (!fs.Exists(ContextLayout.SystemDirectory) || !fs.Exists(ContextLayout.Area0Directory) || !fs.Exists(ContextLayout.Area1Directory))
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
        ContextTable? best = null;
        var errors = new List<string>(2);
        foreach (string path in (ReadOnlySpan<string>)[ContextLayout.TableCopy0, ContextLayout.TableCopy1])
        {
            string? error;
            if (!fs.Exists(path))
            {
                error = $"{path} is missing";
            }
            else
            {
                try
                {
                    if (ContextTable.TryDecode(fs.ReadAllBytes(path), out var t, out error) && (best is null || t.Generation > best.Generation))
                    {
                        best = t;
                    }
                }
                catch (FlashDataCorruptException ex)
                {
                    error = ex.Message;
                }
            }

            if (error is not null)
            {
                errors.Add($"{path}: {error}");
            }
        }

        if (best is null)
        {
            throw new ContextTableCorruptException("No valid context table: " + string.Join("; ", errors));
        }

        if (errors.Count > 0 && best.Generation > 1)
        {
            (logger ?? NullLogger.Instance).LogWarning(ContextEvents.TableCopyDamaged, "Context table copy unusable ({Error}); using generation {Generation}", errors[0], best.Generation);
        }

        return best;
    }

    /// <summary>Lays out the system and context areas on a mounted, empty file system with a given table (one atomic commit).</summary>
    internal static void Initialize(FlashFileSystem fs, ContextTable table)
    {
        using var txn = fs.BeginTransaction();
        foreach (string dir in (ReadOnlySpan<string>)[ContextLayout.SystemDirectory, ContextLayout.Area0Directory, ContextLayout.Area1Directory])
        {
            if (!fs.Exists(dir))
            {
                txn.CreateDirectory(dir);
            }
        }

        txn.WriteAllBytes(TablePath(table.Generation), table.Encode());
        txn.Commit();
    }

    internal static string TablePath(ulong generation) => (generation & 1) == 0 ? ContextLayout.TableCopy0 : ContextLayout.TableCopy1;

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
    public IReadOnlyList<string> List(ContextArea area)
    {
        var result = new List<string>();
        string root = area.Directory();
        foreach (var e in Walk(_fs, root))
        {
            if (!e.IsDirectory)
            {
                result.Add(e.Path[(root.Length + 1)..]);
            }
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }

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
    internal ContextTable Validate(ContextOperation op) => Next(Table, op);

    /// <summary>Validates and commits an operation with its new table in one atomic file-system transaction.</summary>
    /// <param name="op">The change.</param>
    /// <param name="sequence">The mirrored transaction id to record, or null to keep the table's.</param>
    internal ContextTable Apply(ContextOperation op, ulong? sequence) => ApplyBatch([op], sequence);

    /// <summary>The table an operation would produce from a given table (without generation and sequence); throws what <see cref="Apply"/> would.</summary>
    /// <param name="table">The table before the change (a transaction's staged table).</param>
    /// <param name="op">The change.</param>
    internal static ContextTable Preview(ContextTable table, ContextOperation op) => Next(table, op);

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
            var next = before;
            foreach (var op in ops)
            {
                if (op.Kind == ContextOperationKind.Clear && ops.Count > 1)
                {
                    throw new ArgumentException("Clearing an area cannot be batched with other operations.", nameof(ops));
                }

                next = Next(next, op);
            }

            next = next with { Generation = before.Generation + 1, Sequence = sequence ?? before.Sequence };
            using var txn = _fs.BeginTransaction();
            var created = new HashSet<string>(StringComparer.Ordinal);
            foreach (var op in ops)
            {
                switch (op.Kind)
                {
                    case ContextOperationKind.Write:
                    case ContextOperationKind.WriteConfiguration:
                        foreach (var (path, data) in op.Files!)
                        {
                            string abs = Absolute(op.Area, path);
                            EnsureParents(txn, abs, created);
                            txn.WriteAllBytes(abs, data);
                        }

                        break;
                    case ContextOperationKind.Delete:
                        txn.Delete(Absolute(op.Area, op.Path!));
                        break;
                    case ContextOperationKind.Clear:
                        AddClear(txn, op.Area.Directory());
                        break;
                }
            }

            txn.WriteAllBytes(TablePath(next.Generation), next.Encode());
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

    internal static IEnumerable<FlashEntry> Walk(FlashFileSystem fs, string directory)
    {
        var stack = new Stack<string>();
        stack.Push(directory);
        while (stack.Count > 0)
        {
            string dir = stack.Pop();
            foreach (var e in fs.ListDirectory(dir))
            {
                yield return e;
                if (e.IsDirectory)
                {
                    stack.Push(e.Path);
                }
            }
        }
    }

    internal static string Absolute(ContextArea area, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] == '/' || path[^1] == '/')
        {
            throw new FlashInvalidPathException(path, $"'{path}' must be a non-empty path relative to the context area.");
        }

        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == "." || part == "..")
            {
                throw new FlashInvalidPathException(path, $"'{path}' contains an empty, '.' or '..' component.");
            }
        }

        return area.Directory() + "/" + path;
    }

    private static ContextTable Next(ContextTable t, ContextOperation op)
    {
        switch (op.Kind)
        {
            case ContextOperationKind.Write:
            case ContextOperationKind.Delete:
                RefuseCurrent(t, op.Area);
                if (op.Kind == ContextOperationKind.Write)
                {
                    ArgumentNullException.ThrowIfNull(op.Files);
                    foreach (var (path, data) in op.Files)
                    {
                        _ = Absolute(op.Area, path);
                        ArgumentNullException.ThrowIfNull(data);
                    }
                }
                else
                {
                    _ = Absolute(op.Area, op.Path!);
                }

                return t.StateOf(op.Area) == ContextState.Writing
                    ? t
                    : t.WithState(op.Area, ContextState.Writing).WithLabel(op.Area, "") with { AlternateBoot = false, BootRetries = 0 };
            case ContextOperationKind.WriteConfiguration:
                ArgumentNullException.ThrowIfNull(op.Files);
                if (op.Area != t.Current)
                {
                    throw new ArgumentException($"Configuration writes go to the current area {t.Current}, not {op.Area}.", nameof(op));
                }

                foreach (var (path, data) in op.Files)
                {
                    _ = Absolute(op.Area, path);
                    ArgumentNullException.ThrowIfNull(data);
                    if (!path.StartsWith(ContextLayout.ConfigurationDirectory + "/", StringComparison.Ordinal))
                    {
                        throw new CurrentContextWriteException(op.Area);
                    }
                }

                return t;
            case ContextOperationKind.Clear:
                RefuseCurrent(t, op.Area);
                return t.WithState(op.Area, ContextState.Invalid).WithLabel(op.Area, "") with { AlternateBoot = false, BootRetries = 0 };
            case ContextOperationKind.MarkComplete:
                if (t.AlternateState is not (ContextState.Writing or ContextState.Valid))
                {
                    throw new ContextStateException(t.Alternate, t.AlternateState, $"The alternate {t.Alternate} is {t.AlternateState}; only a written alternate can be marked complete.");
                }

                var done = t.WithState(t.Alternate, ContextState.Valid);
                return op.Label is null ? done : done.WithLabel(t.Alternate, op.Label);
            case ContextOperationKind.Switch:
                RequireValidAlternate(t, "switch to it");
                var old = t.Current;
                var oldState = t.CurrentState == ContextState.Trial ? ContextState.Invalid : t.CurrentState;
                return t.WithState(t.Alternate, op.Trial ? ContextState.Trial : ContextState.Valid).WithState(old, oldState)
                    with { Current = t.Alternate, AlternateBoot = false, BootRetries = 0 };
            case ContextOperationKind.SetAlternateBoot:
                ArgumentOutOfRangeException.ThrowIfLessThan(op.Retries, 1, nameof(op.Retries));
                ArgumentOutOfRangeException.ThrowIfGreaterThan(op.Retries, ushort.MaxValue, nameof(op.Retries));
                RequireValidAlternate(t, "boot it");
                return t with { AlternateBoot = true, BootRetries = op.Retries };
            case ContextOperationKind.ClearAlternateBoot:
                return t with { AlternateBoot = false, BootRetries = 0 };
            case ContextOperationKind.ConsumeBootRetry:
                int left = Math.Max(0, t.BootRetries - 1);
                return t with { BootRetries = left, AlternateBoot = t.AlternateBoot && left > 0 };
            case ContextOperationKind.ConfirmCurrent:
                if (t.CurrentState != ContextState.Trial)
                {
                    throw new ContextStateException(t.Current, t.CurrentState, $"The current {t.Current} is {t.CurrentState}, not on trial.");
                }

                return t.WithState(t.Current, ContextState.Valid);
            case ContextOperationKind.Invalidate:
                var inv = t.WithState(op.Area, ContextState.Invalid);
                return op.Area == t.Alternate ? inv with { AlternateBoot = false, BootRetries = 0 } : inv;
            default:
                throw new ArgumentOutOfRangeException(nameof(op), op.Kind, "Unknown context operation.");
        }
    }

    private static void RefuseCurrent(ContextTable t, ContextArea area)
    {
        if (area == t.Current)
        {
            throw new CurrentContextWriteException(area);
        }
    }

    private static void RequireValidAlternate(ContextTable t, string what)
    {
        if (t.AlternateState != ContextState.Valid)
        {
            throw new ContextStateException(t.Alternate, t.AlternateState, $"The alternate {t.Alternate} is {t.AlternateState}; it must be valid to {what}.");
        }
    }

    private void EnsureParents(FlashTransaction txn, string abs, HashSet<string> created)
    {
        int slash = abs.IndexOf('/', 1);
        slash = abs.IndexOf('/', slash + 1);
        while (slash > 0)
        {
            string dir = abs[..slash];
            if (!created.Contains(dir) && !_fs.Exists(dir))
            {
                txn.CreateDirectory(dir);
                created.Add(dir);
            }

            slash = abs.IndexOf('/', slash + 1);
        }
    }

    private void AddClear(FlashTransaction txn, string root)
    {
        var entries = Walk(_fs, root).ToList();
        foreach (var e in entries.Where(e => !e.IsDirectory))
        {
            txn.Delete(e.Path);
        }

        foreach (var e in entries.Where(e => e.IsDirectory).OrderByDescending(e => e.Path.Length))
        {
            txn.DeleteDirectory(e.Path);
        }
    }
}

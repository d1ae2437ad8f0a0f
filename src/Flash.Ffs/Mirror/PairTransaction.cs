using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>
/// A transaction of a <see cref="RedundantPair"/> held by the caller (claims 57–59): begun with
/// <see cref="RedundantPair.BeginTransactionAsync"/>, which takes the pair's alternate gate and assigns the id; any number
/// of file operations then carry that id (reads of the transaction see its own writes); <see cref="CompletePrimaryAsync"/>
/// commits them on the primary in one atomic commit and runs the backup, copied from the primary and verified, on the
/// secondary under the same id; <see cref="Complete"/> releases the gates. <see cref="Abort"/> before the
/// primary commit leaves both devices as they were.
/// </summary>
/// <remarks>Operations are staged in memory until <see cref="CompletePrimaryAsync"/>, like a <see cref="FlashTransaction"/>:
/// nothing reaches either device before it, so a power cut before it leaves both devices unchanged. Each operation is
/// validated when it is staged; bad input throws and leaves the transaction as it was. Not thread-safe: one caller drives it.
/// Only <see cref="CompletePrimaryAsync"/> can wait (for the reads a restricting backup drains), so it alone has an
/// asynchronous twin; every other member holds the pair's gate already and is synchronous only (there is no
/// <c>ReadAsync</c> or <c>AbortAsync</c> that would merely wrap the same work in a completed task).</remarks>
public sealed partial class PairTransaction : IDisposable
{
    private readonly RedundantPair _pair;
    private readonly List<ContextOperation> _ops = [];
    private readonly Dictionary<string, StagedFile> _staged = new(StringComparer.Ordinal);
    private readonly SliceBuffers _buffers;

    internal PairTransaction(RedundantPair pair, ulong id, ContextTable table, PairTransactionOptions options, SliceBuffers buffers)
    {
        _pair = pair;
        _buffers = buffers;
        Id = id;
        Base = table;
        Table = table;
        Options = options;
    }

    /// <summary>The transaction id, also the sequence number the change is committed with on both devices.</summary>
    public ulong Id { get; }

    /// <summary>Where the transaction stands.</summary>
    public PairTransactionState State { get; internal set; }

    /// <summary>The context table as the staged operations leave it (generation and sequence are assigned at commit).</summary>
    public ContextTable Table { get; private set; }

    /// <summary>How many operations are staged.</summary>
    public int OperationCount => _ops.Count;

    internal ContextTable Base { get; }

    internal PairTransactionOptions Options { get; }

    internal IReadOnlyList<ContextOperation> Operations => _ops;

    /// <summary>Files the transaction leaves behind (absolute path → area, relative path, content; null content for a delete).</summary>
    internal IReadOnlyDictionary<string, StagedFile> Staged => _staged;

    /// <summary>Stages a file write into the alternate context.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content (copied now).</param>
    /// <exception cref="FlashInvalidPathException">The path is not a valid relative path; nothing was staged.</exception>
    /// <exception cref="PairTransactionStateException">The transaction is not open.</exception>
    public void WriteAlternate(string path, ReadOnlySpan<byte> data)
        => Stage(new ContextOperation(ContextOperationKind.Write, Table.Alternate, [new(path, _buffers.Copy(data))]));

    /// <summary>Stages configuration writes (paths under <c>config/</c>) into the current context.</summary>
    /// <param name="files">Relative paths and contents.</param>
    /// <exception cref="CurrentContextWriteException">A path is outside <c>config/</c>; nothing was staged.</exception>
    public void WriteCurrentConfiguration(IEnumerable<KeyValuePair<string, byte[]>> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        Stage(new ContextOperation(ContextOperationKind.WriteConfiguration, Table.Current, files.Select(f => new KeyValuePair<string, byte[]>(f.Key, f.Value.ToArray())).ToArray()));
    }

    /// <summary>Stages marking the alternate context complete.</summary>
    /// <param name="label">Version label, or null to keep the current one.</param>
    /// <exception cref="ContextStateException">The alternate (as staged) is not written.</exception>
    public void MarkAlternateComplete(string? label = null) => Stage(new ContextOperation(ContextOperationKind.MarkComplete, Label: label));

    /// <summary>Stages the deletion of a file of the alternate context.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels before the existence check on the primary.</param>
    /// <exception cref="FlashPathNotFoundException">The file does not exist (as staged); nothing was staged.</exception>
    public void DeleteAlternate(string path, CancellationToken cancellationToken = default)
    {
        RequireOpen("stage a delete");
        var op = new ContextOperation(ContextOperationKind.Delete, Table.Alternate, Path: path);
        _ = ContextStore.Preview(Table, op);
        string abs = ContextStore.Absolute(op.Area, path);
        cancellationToken.ThrowIfCancellationRequested();
        bool exists = _staged.TryGetValue(abs, out var f) ? f.Data is not null : _pair.ExistsOnPrimary(abs);
        if (!exists)
        {
            throw new FlashPathNotFoundException(abs);
        }

        Stage(op);
    }

    /// <summary>Reads a file as the transaction sees it: its own staged writes first, otherwise the primary's committed content.</summary>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels before the device is read.</param>
    /// <returns>The content.</returns>
    /// <exception cref="FlashPathNotFoundException">No such file (or the transaction deleted it).</exception>
    public byte[] Read(ContextArea area, string path, CancellationToken cancellationToken = default)
    {
        RequireOpen("read");
        string abs = ContextStore.Absolute(area, path);
        if (_staged.TryGetValue(abs, out var f))
        {
            return f.Data is null ? throw new FlashPathNotFoundException(abs) : f.At is { } at ? WithStagedRange(abs, at, f.Data) : f.Data.ToArray();
        }

        cancellationToken.ThrowIfCancellationRequested();
        return _pair.ReadOnPrimary(abs);
    }

    /// <summary>Reads a file of the alternate context as the transaction sees it.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels before the device is read.</param>
    /// <returns>The content.</returns>
    public byte[] ReadAlternate(string path, CancellationToken cancellationToken = default) => Read(Table.Alternate, path, cancellationToken);

    /// <summary>
    /// Commits the staged operations and the new table on the primary in one atomic commit with sequence <see cref="Id"/>
    /// (claim 59), then runs the backup on the secondary under the same id: every file the transaction wrote is read back
    /// from the primary, compared with the bytes written and checked with <see cref="PairTransactionOptions.BackupCheck"/>,
    /// and that copy is committed on the secondary. With <see cref="PairTransactionOptions.RestrictPrimaryDuringBackup"/>
    /// reads of the primary wait meanwhile.
    /// </summary>
    /// <param name="cancellationToken">Cancels before the primary commit; after it the backup always runs (see <see cref="MirrorTransactionCanceledException"/>).</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="PairTransactionStateException">The transaction is not open.</exception>
    /// <exception cref="BackupVerificationException">A file did not verify on the primary and could not be healed; the primary part is committed, the secondary is marked for resynchronisation.</exception>
    public Task<ContextTable> CompletePrimaryAsync(CancellationToken cancellationToken = default) => _pair.CompletePrimaryAsync(this, cancellationToken);

    /// <summary>The synchronous twin of <see cref="CompletePrimaryAsync"/> (it blocks while a restricting backup waits for admitted reads).</summary>
    /// <param name="cancellationToken">Cancels before the primary commit; after it the backup always runs (see <see cref="MirrorTransactionCanceledException"/>).</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="PairTransactionStateException">The transaction is not open.</exception>
    /// <exception cref="BackupVerificationException">A file did not verify on the primary and could not be healed; the primary part is committed, the secondary is marked for resynchronisation.</exception>
    public ContextTable CompletePrimary(CancellationToken cancellationToken = default) => _pair.CompletePrimary(this, cancellationToken);

    /// <summary>Ends a transaction whose primary part committed: the completion command; the pair's gates are released.</summary>
    /// <exception cref="PairTransactionStateException">The primary part has not committed (abort instead).</exception>
    public void Complete() => _pair.Complete(this);

    /// <summary>Abandons an open transaction: nothing was written to either device; the gates are released. Does nothing when already aborted.</summary>
    /// <exception cref="PairTransactionStateException">The primary part already committed (complete it instead).</exception>
    public void Abort() => _pair.Abort(this);

    /// <summary>Aborts an open transaction, completes one whose primary part committed; does nothing otherwise.</summary>
    public void Dispose()
    {
        switch (State)
        {
            case PairTransactionState.Open:
                Abort();
                break;
            case PairTransactionState.PrimaryCommitted:
            case PairTransactionState.BackupFailed:
                Complete();
                break;
            default:
                break;
        }
    }

    /// <summary>A one-line description.</summary>
    /// <returns>The description.</returns>
    public override string ToString() => $"Transaction {Id} ({_ops.Count} operation(s), {State})";

    /// <summary>
    /// Hands the staged copies back to the pair's buffers once the transaction is closed (completed or aborted):
    /// nothing reads them any more (the primary and the secondary committed, or nothing was written).
    /// </summary>
    internal void ReleaseBuffers()
    {
        foreach (var op in _ops)
        {
            if (op.Files is { } files)
            {
                foreach (var file in files)
                {
                    _buffers.Give(file.Value);
                }
            }
        }
    }

    internal void RequireOpen(string what)
    {
        if (State != PairTransactionState.Open)
        {
            throw new PairTransactionStateException(Id, State, $"cannot {what}.");
        }
    }

    private void Stage(ContextOperation op)
    {
        RequireOpen("stage " + op);
        var next = ContextStore.Preview(Table, op);
        RefuseBesideRange(op);
        if (op.Files is not null)
        {
            foreach (var (path, data) in op.Files)
            {
                string abs = ContextStore.Absolute(op.Area, path);
                _staged.Remove(abs);
                _staged[abs] = new StagedFile(op.Area, path, data, op.At);
            }
        }
        else if (op.Kind == ContextOperationKind.Delete)
        {
            string abs = ContextStore.Absolute(op.Area, op.Path!);
            _staged.Remove(abs);
            _staged[abs] = new StagedFile(op.Area, op.Path!, null);
        }

        _ops.Add(op);
        Table = next;
    }
}

/// <summary>A file as a caller-held transaction leaves it.</summary>
/// <param name="Area">Its area.</param>
/// <param name="Path">Path relative to the area.</param>
/// <param name="Data">Its content, or null when the transaction deletes it.</param>
/// <param name="At">When set, <paramref name="Data"/> is written from this offset on (<see cref="PairTransaction.WriteAlternateAt"/>), not the whole content.</param>
internal sealed record StagedFile(ContextArea Area, string Path, byte[]? Data, long? At = null);

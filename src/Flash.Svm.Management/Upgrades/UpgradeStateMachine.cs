using Flash.Ffs.Contexts;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Management.Upgrades;

/// <summary>
/// The node's one upgrade, behind every management front end (TL1, gNOI): idle → downloading → validated →
/// activated (trial passed) → committed, or rolled back; cancel while downloading or validated. One install in flight
/// at a time; every other request gets an <see cref="UpgradeRefusedException"/>. Each state change is stored through
/// <see cref="IUpgradeStateStore"/> (NVS) before it is announced, so a restarted node continues where it was
/// (<see cref="Recover"/>).
/// </summary>
public sealed class UpgradeStateMachine : IDisposable
{
    private readonly SoftwareVersionManager _svm;
    private readonly IUpgradeStateStore _store;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();

    // Set while no download job runs: Dispose joins the job on this signal, not by blocking on its task.
    private readonly ManualResetEventSlim _idle = new(initialState: true);
    private UpgradeStatus _status = UpgradeStatus.Initial;
    private CancellationTokenSource? _download;
    private Task _running = Task.CompletedTask;
    private bool _disposed;

    /// <summary>Creates the machine; call <see cref="Recover"/> once storage is initialised.</summary>
    /// <param name="svm">The node's SVM.</param>
    /// <param name="store">Where the state lives.</param>
    /// <param name="logger">Logger.</param>
    /// <param name="time">Clock for the record's time stamps.</param>
    public UpgradeStateMachine(SoftwareVersionManager svm, IUpgradeStateStore store, ILogger? logger = null, TimeProvider? time = null)
    {
        _svm = svm ?? throw new ArgumentNullException(nameof(svm));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _log = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Raised after every stored state change (on the thread that made it).</summary>
    public event EventHandler<UpgradeStatus>? Changed;

    /// <summary>Raised for download progress.</summary>
    public event EventHandler<UpgradeTransferProgress>? Progress;

    /// <summary>The current status (read without the lock: retrievals do not wait for a trial boot in progress).</summary>
    public UpgradeStatus Status => Volatile.Read(ref _status);

    /// <summary>The download in flight, or a completed task.</summary>
    public Task Running
    {
        get
        {
            lock (_gate)
            {
                return _running;
            }
        }
    }

    /// <summary>The SVM the machine drives (front ends use it for retrievals).</summary>
    public SoftwareVersionManager Svm => _svm;

    /// <summary>
    /// Reads the stored status and reconciles it with the contexts the node runs (after <see cref="SoftwareVersionManager.Initialize"/>);
    /// a corrupt record counts as none (logged) and is rewritten.
    /// </summary>
    /// <returns>The status continued from.</returns>
    public UpgradeStatus Recover()
    {
        UpgradeStatus stored;
        bool corrupt = false;
        try
        {
            stored = _store.Read() ?? UpgradeStatus.Initial;
        }
        catch (SvmFormatException ex)
        {
            _log.LogWarning(ManagementEvents.StateRecordCorrupt, "Upgrade state record unreadable ({Error}); starting idle", ex.Message);
            stored = UpgradeStatus.Initial with { Message = "state record was corrupt" };
            corrupt = true;
        }

        var table = _svm.ReadTable();
        SoftwareVersion? alternate = table.AlternateState == ContextState.Valid ? table.AlternateRelease() : null;
        var next = UpgradeTransitions.Reconcile(stored, table.CurrentRelease(), alternate);
        Volatile.Write(ref _status, stored);

        if (next != stored || corrupt)
        {
            Store(next);
        }

        _log.LogInformation(ManagementEvents.StateRecovered, "Upgrade state {State} ({Outcome}) target {Target}", next.State, next.Outcome, next.Target);
        return Status;
    }

    /// <summary>Starts a download: the package is fetched through SVM's software sources and stored, verified, in the alternate context.</summary>
    /// <param name="transfer">The transfer parameters.</param>
    /// <param name="mode">Full, partial or automatic.</param>
    /// <returns>The download (completes when validated, failed or cancelled; never faults).</returns>
    /// <exception cref="UpgradeRefusedException">Another install is in flight.</exception>
    public Task StartDownload(TransferParameters transfer, UpgradeMode mode = UpgradeMode.Auto)
    {
        ArgumentNullException.ThrowIfNull(transfer);
        // A network source's path is already its URL (without credentials): keep it as is, not "ftp:ftp://…".
        string source = transfer.Path.StartsWith(transfer.Source + "://", StringComparison.OrdinalIgnoreCase) ? transfer.Path : $"{transfer.Source}:{transfer.Path}";
        lock (_gate)
        {
            Refuse(UpgradeRequest.Download);
            var running = _svm.ReadTable().CurrentRelease();
            _download = new CancellationTokenSource();
            Store(new UpgradeStatus(UpgradeState.Downloading, UpgradeOutcome.None, _status.Sequence, SoftwareVersion.Zero, running, Now(), source, ""));
            var token = _download.Token;
            _idle.Reset();
            // A background job started on a thread of its own: the SVM's asynchronous upgrade command awaits a network
            // transfer (the job then continues on the pool as bytes arrive, storing each slice), while a local source
            // (file, directory, memory, gNOI) waits for nothing and runs its whole synchronous install on that thread,
            // which must not be a pool thread held for minutes, nor the caller's.
            _running = Task.Factory.StartNew(() => DownloadAsync(transfer, mode, source, token), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
            return _running;
        }
    }

    /// <summary>Cancels the download in flight (it ends as idle/cancelled) or discards a validated release.</summary>
    /// <exception cref="UpgradeRefusedException">Nothing to cancel.</exception>
    public void Cancel()
    {
        lock (_gate)
        {
            Refuse(UpgradeRequest.Cancel);
            if (_status.State == UpgradeState.Downloading)
            {
                _download?.Cancel();
                return;
            }

            var pair = _svm.Storage;
            pair.Invalidate(pair.Table.Alternate);
            Store(_status with { State = UpgradeState.Idle, Outcome = UpgradeOutcome.Cancelled, Message = "validated release discarded" });
        }
    }

    /// <summary>Trial-boots the validated release (system-wide init); it is activated when the trial passes, otherwise rolled back.</summary>
    /// <param name="cancellationToken">Cancels the init.</param>
    /// <returns>The boot report of the trial.</returns>
    /// <exception cref="UpgradeRefusedException">Nothing validated.</exception>
    public BootReport Activate(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Refuse(UpgradeRequest.Activate);
            _svm.SetAlternateBootFlag();
            var report = _svm.Initialize(cancellationToken);
            Store(report.Trial == TrialOutcome.Committed && report.Release == _status.Target
                ? _status with { State = UpgradeState.Activated, Outcome = UpgradeOutcome.None, Message = "" }
                : _status with { State = UpgradeState.RolledBack, Outcome = UpgradeOutcome.TrialFailed, Message = $"trial failed; modules [{string.Join(", ", report.FailedModules)}]" });
            return report;
        }
    }

    /// <summary>Accepts the activated release: it stays current (committed).</summary>
    /// <exception cref="UpgradeRefusedException">Nothing activated.</exception>
    public void Accept()
    {
        lock (_gate)
        {
            Refuse(UpgradeRequest.Accept);
            Store(_status with { State = UpgradeState.Committed, Outcome = UpgradeOutcome.None, Message = "" });
        }
    }

    /// <summary>Reverts the activated release: contexts are exchanged back and the node re-initialised on the previous release.</summary>
    /// <param name="cancellationToken">Cancels the init.</param>
    /// <returns>The boot report.</returns>
    /// <exception cref="UpgradeRefusedException">Nothing activated.</exception>
    public BootReport Revert(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Refuse(UpgradeRequest.Revert);
            _svm.ExchangeContexts();
            var report = _svm.Initialize(cancellationToken);
            Store(_status with { State = UpgradeState.RolledBack, Outcome = UpgradeOutcome.Reverted, Message = $"release {report.Release} runs" });
            return report;
        }
    }

    /// <summary>
    /// Runs another node operation (system-wide or module init, a configuration restore) exclusively with the
    /// upgrade transitions; refused while a download runs, since it writes the same storage.
    /// </summary>
    /// <typeparam name="T">The operation's result.</typeparam>
    /// <param name="operation">The operation.</param>
    /// <returns>Its result.</returns>
    /// <exception cref="UpgradeRefusedException">A download is running.</exception>
    public T RunExclusive<T>(Func<T> operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        lock (_gate)
        {
            if (_status.State == UpgradeState.Downloading)
            {
                throw new UpgradeRefusedException(UpgradeRefusal.InstallInProgress, _status.State);
            }

            return operation();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _download?.Cancel();
        }

        // Joins the background download job (cancelled above), bounded, as every background job is joined on dispose
        // (docs/architecture.md, "Background work"): on the signal its last step sets, so no thread blocks on a task;
        // none of the job's awaits needs this thread. A job that outlives the bound keeps its token and signal.
        if (_idle.Wait(TimeSpan.FromSeconds(30)))
        {
            _download?.Dispose();
            _idle.Dispose();
        }
    }

    private async Task DownloadAsync(TransferParameters transfer, UpgradeMode mode, string source, CancellationToken token)
    {
        try
        {
            End(await RunDownloadAsync(transfer, mode, source, token).ConfigureAwait(false));
        }
        finally
        {
            _idle.Set();
        }
    }

    /// <summary>The upgrade command of the download job and the state it ends in (it never throws).</summary>
    private async Task<UpgradeStatus> RunDownloadAsync(TransferParameters transfer, UpgradeMode mode, string source, CancellationToken token)
    {
        UpgradeStatus end;
        try
        {
            var progress = new Reporter(this, source);
            var result = await _svm.UpgradeAsync(new UpgradeCommand(transfer, mode, ActivationMode.None), progress, token).ConfigureAwait(false);
            end = Status with { State = UpgradeState.Validated, Target = result.Release, Outcome = UpgradeOutcome.None, Message = $"{result.Mode}, {result.Downloaded.Count} component(s) downloaded" };
        }
        catch (OperationCanceledException)
        {
            end = Status with { State = UpgradeState.Idle, Outcome = UpgradeOutcome.Cancelled, Message = "download cancelled" };
        }
        catch (PackageRejectedException ex)
        {
            end = Status with { State = UpgradeState.Failed, Outcome = UpgradeOutcome.PackageRejected, Message = ex.Message };
        }
        catch (UpgradeFailedException ex)
        {
            end = Status with { State = UpgradeState.Failed, Outcome = UpgradeOutcome.StorageFailed, Message = ex.Message };
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
        {
            end = Status with { State = UpgradeState.Failed, Outcome = UpgradeOutcome.TransferFailed, Message = ex.Message };
        }

        return end;
    }

    /// <summary>Stores the state the download ended in.</summary>
    private void End(UpgradeStatus end)
    {
        lock (_gate)
        {
            try
            {
                Store(end);
            }
            catch (IOException ex)
            {
                _log.LogError(ManagementEvents.StateStoreFailed, ex, "Could not store the upgrade state {State}", end.State);
            }
        }
    }

    private void Refuse(UpgradeRequest request)
    {
        if (UpgradeTransitions.Check(_status.State, request) is { } why)
        {
            _log.LogInformation(ManagementEvents.RequestRefused, "{Request} refused in state {State}: {Reason}", request, _status.State, why);
            throw new UpgradeRefusedException(why, _status.State);
        }
    }

    /// <summary>Stores first, then publishes: a listener never hears of a state NVS does not hold.</summary>
    private void Store(UpgradeStatus next)
    {
        next = next with { Sequence = _status.Sequence + 1, ChangedAt = Now() };
        _store.Write(next);
        Volatile.Write(ref _status, next);
        _log.LogInformation(ManagementEvents.StateChanged, "Upgrade {State} ({Outcome}) target {Target} from {Source}: {Message}", next.State, next.Outcome, next.Target, next.Source, next.Message);
        Changed?.Invoke(this, next);
    }

    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());

    private sealed class Reporter(UpgradeStateMachine owner, string source) : IProgress<UpgradeProgress>
    {
        public void Report(UpgradeProgress value) => owner.Progress?.Invoke(owner, new UpgradeTransferProgress(source, value));
    }
}

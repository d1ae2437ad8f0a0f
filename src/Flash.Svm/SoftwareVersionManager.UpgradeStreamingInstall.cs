using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>
    /// One streaming install into the alternate context: the sink a streaming source fills and the target of the
    /// <see cref="PackageStreamReader"/> that checks the bytes. Every durable step is one mirrored commit per device that
    /// also writes <c>install/state</c> (<see cref="StreamingInstallState"/>): the header, each slice of a component
    /// (<see cref="SliceSize"/>; the last one once the component's digest verified), the verified trailer. Memory: the
    /// reader's header and trailer and one slice buffer, whatever the component size (slices: UpgradeStreamingSlices.cs).
    /// </summary>
    private sealed partial class StreamingInstall : IPackageSink, IPackageStreamTarget, IDisposable
    {
        private readonly SoftwareVersionManager _svm;
        private readonly byte[] _identity;
        private readonly UpgradeMode _mode;
        private readonly SgcFile? _currentSgc;
        private readonly IProgress<UpgradeProgress>? _progress;
        private readonly CancellationToken _cancellationToken;
        private PackageStreamReader _reader;
        private StreamingInstallState? _state;
        private HashSet<string> _download = new(StringComparer.Ordinal);
        private IReadOnlyList<SgcComponent> _downloadList = [];
        private IReadOnlyList<SgcComponent> _copy = [];
        private IReadOnlyList<ModuleAddress> _affected = [];
        private SgcDigestCheck? _check;
        private int _stored;
        private bool _wrote;
        private long _written;

        public StreamingInstall(SoftwareVersionManager svm, byte[] identity, UpgradeMode mode, SgcFile? currentSgc, IProgress<UpgradeProgress>? progress, CancellationToken cancellationToken)
        {
            _svm = svm;
            _identity = identity;
            _mode = mode;
            _currentSgc = currentSgc;
            _progress = progress;
            _cancellationToken = cancellationToken;
            _reader = new PackageStreamReader(svm._options.Packages, this);
        }

        public long Length => _reader.Position;

        public string? Validator { get; private set; }

        public long Total { get; private set; } = -1;

        public SoftwareVersion? Release => _reader.Header?.Sgc.Release;

        public bool Downloaded => _state is { Downloaded: true } || _reader.IsComplete;

        private RedundantPair Pair => _svm.Storage;

        /// <summary>Picks up the partial install of the same command, if the alternate holds one; otherwise the install starts from zero.</summary>
        public void OpenResumable()
        {
            var pair = Pair;
            if (pair.Table.AlternateState == ContextState.Valid)
            {
                return;
            }

            var files = pair.ListAlternate(_cancellationToken);
            if (!files.Contains(StreamingInstallState.Path) || !files.Contains(StreamingInstallState.HeaderPath)
                || StreamingInstallState.TryDecode(pair.ReadAlternate(StreamingInstallState.Path, _cancellationToken)) is not { } state
                || !state.BelongsTo(_identity, _mode))
            {
                return;
            }

            // From here a rejection (the trust or the floor changed since) discards the stored part.
            _wrote = true;
            var header = PackageHeader.TryParse(pair.ReadAlternate(StreamingInstallState.HeaderPath, _cancellationToken), _svm._options.Packages);
            if (header is null || !_reader.Resume(header, state.Durable, state.Total))
            {
                return;
            }

            Plan(header);
            var inside = _reader.ResumedEntry is { } partial ? $", inside {partial.Name} ({_reader.PrefixToRestore} bytes of it re-read from the primary for its digest)" : "";
            if (!RestorePartialComponent())
            {
                // The stored part of the component does not fit the record: the install starts over.
                _reader.Dispose();
                _reader = new PackageStreamReader(_svm._options.Packages, this);
                return;
            }

            _reader.Begin(state.Total);
            if (state.Downloaded)
            {
                if (!files.Contains(StreamingInstallState.TrailerPath))
                {
                    return;
                }

                // The trust may have changed since (a key revoked): the stored envelope is verified again.
                _reader.VerifyTrailer(pair.ReadAlternate(StreamingInstallState.TrailerPath, _cancellationToken));
            }

            (_state, Validator, Total) = (state, state.Validator, state.Total);
            _svm.Raise(SvmEvents.UpgradeStarted, LogLevel.Information,
                $"{_mode} upgrade to {header.Sgc.Release} resumes at {state.Durable} of {state.Total} bytes (stored in the alternate context{inside})");
        }

        public void Begin(long totalLength, string? validator, bool fromZero)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (fromZero && Length > 0)
            {
                // The server's file changed (or cannot resume): a different package, which starts over.
                _reader.Dispose();
                _reader = new PackageStreamReader(_svm._options.Packages, this);
                _state = null;
                ResetSlices();
            }
            else if (_state is not null && totalLength != _state.Total)
            {
                throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"The server's file is {totalLength} bytes now, the stored part of it belongs to one of {_state.Total}.");
            }

            (Total, Validator) = (totalLength, validator);
            _reader.Begin(totalLength);
        }

        public void Append(ReadOnlySpan<byte> data)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            _reader.Append(data);
        }

        public void RequireDownloaded()
        {
            if (!Downloaded && Total >= 0 && Length == Total)
            {
                throw new PackageRejectedException(PackageRejectReason.Truncated, $"The package ends after {Total} bytes, before its {(_reader.Header is null ? "header" : "trailer")} is complete.");
            }

            if (!Downloaded)
            {
                throw new SvmException($"The source ended after {Length} of {Total} bytes of the package.");
            }
        }

        public void OnHeader(PackageHeader header)
        {
            Plan(header);
            var pair = Pair;
            pair.ClearAlternate(_cancellationToken);
            _wrote = true;
            RequireRedundancy(pair);
            _state = new StreamingInstallState(_identity, _mode, header.Format, Total, header.Length, Validator);
            Commit([new(StreamingInstallState.HeaderPath, header.Bytes), new(StreamingInstallState.Path, _state.Encode())]);
            _svm.Raise(SvmEvents.UpgradeStarted, LogLevel.Information,
                $"{_mode} upgrade {pair.Table.CurrentRelease()} -> {header.Sgc.Release} streams {Total} bytes: {_downloadList.Count} component(s) to store as they arrive, {_copy.Count} to copy from the current context");
        }

        public void OnSigned(ReadOnlySpan<byte> trailer)
        {
            _state = _state! with { Durable = Total };
            Commit([new(StreamingInstallState.TrailerPath, trailer.ToArray()), new(StreamingInstallState.Path, _state.Encode())]);
            _progress?.Report(new UpgradeProgress("verify", Total, Total, _stored, _downloadList.Count));
        }

        /// <summary>
        /// The package is signed and every streamed component verified: re-checks the signed release, copies the
        /// unchanged components from the current context, writes configuration and SGC file, checks the set is whole on
        /// both devices, then removes the install records and marks the alternate complete in one commit per device.
        /// </summary>
        public UpgradeResult Finish(ActivationMode activation)
        {
            var header = _reader.Header!;
            var sgc = header.Sgc;
            _svm.RequireInstallable(sgc, _currentSgc);
            var pair = Pair;
            foreach (var c in _copy)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                var old = _svm.TryReadCurrent(SvmLayout.Component(c.Name));
                if (old is null || !c.Matches(old))
                {
                    throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Unchanged component {c.Name} in the current context does not verify; use a full upgrade.");
                }

                Commit([new(SvmLayout.Component(c.Name), old)]);
                _written += old.Length;
            }

            var seal = new List<KeyValuePair<string, byte[]>>();
            foreach (var path in pair.ListCurrent(_cancellationToken).Where(p => p.StartsWith(SvmLayout.ConfigurationPrefix, StringComparison.Ordinal)))
            {
                seal.Add(new(path, pair.ReadCurrent(path, _cancellationToken)));
            }

            seal.Add(new(SvmLayout.Sgc, header.SgcBytes));
            _cancellationToken.ThrowIfCancellationRequested();
            Commit(seal);
            // Every component was checked as it arrived (or, copied, as it was read) and the secondary's copy was read
            // back from the primary and checked against the SGC digests when it was stored; what is left to prove is
            // that the stored set is whole on both devices (a resumed install stored part of it in an earlier run).
            var alternate = pair.Table.Alternate;
            foreach (var member in new[] { pair.Primary, pair.Secondary })
            {
                var stored = pair.List(member, alternate, _cancellationToken).ToHashSet(StringComparer.Ordinal);
                if (sgc.Components.FirstOrDefault(c => !stored.Contains(SvmLayout.Component(c.Name))) is { } missing)
                {
                    throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Component {missing.Name} of release {sgc.Release} is not stored on {_svm.NameOf(member)}.");
                }
            }

            _cancellationToken.ThrowIfCancellationRequested();
            Complete(sgc.Release.ToString());
            RequireRedundancy(pair);
            return _svm.CompleteUpgrade(sgc, _mode, activation, _downloadList, _copy, _affected, _written);
        }

        /// <summary>After bad input: the alternate (pending components, install records) is emptied, when anything was written.</summary>
        public void Discard()
        {
            if (!_wrote)
            {
                return;
            }

            try
            {
                Pair.ClearAlternate();
            }
            catch (IOException)
            {
                // The records stay in an invalid alternate; the next attempt's checks fail the same way or start over.
            }
            catch (InvalidOperationException)
            {
                // As above.
            }
        }

        public void Dispose() => _reader.Dispose();

        private void Plan(PackageHeader header)
        {
            _svm.RequireInstallable(header.Sgc, _currentSgc);
            var (download, copy, affected) = _svm.PlanUpgrade(header.Sgc, _currentSgc, _mode);
            RequireStreamCovers(header, download);
            (_downloadList, _copy, _affected) = (download, copy, affected);
            _download = download.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
            _check = new SgcDigestCheck(header.Sgc, header.SgcBytes);
        }

        /// <summary>One mirrored commit per device of the given files; the secondary's copy is read back from the primary and checked against the SGC digests.</summary>
        private void Commit(IReadOnlyList<KeyValuePair<string, byte[]>> files) => Commit(txn =>
        {
            foreach (var (path, data) in files)
            {
                txn.WriteAlternate(path, data);
            }
        });

        /// <summary>One mirrored commit per device of what <paramref name="stage"/> stages (primary, then the verified copy on the secondary).</summary>
        private void Commit(Action<PairTransaction> stage)
        {
            var pair = Pair;
            using (var txn = pair.BeginTransaction(TransactionOptions(), _cancellationToken))
            {
                stage(txn);
                CompletePrimary(pair, txn);
            }

            RequireRedundancy(pair);
        }

        /// <summary>One commit per device that removes the install records and marks the alternate complete.</summary>
        private void Complete(string label) => Commit(txn =>
        {
            foreach (var path in new[] { StreamingInstallState.HeaderPath, StreamingInstallState.TrailerPath, StreamingInstallState.Path })
            {
                try
                {
                    txn.DeleteAlternate(path, _cancellationToken);
                }
                catch (FlashPathNotFoundException)
                {
                    // Not there (a resumed install that never needed it): nothing to remove.
                }
            }

            txn.MarkAlternateComplete(label);
        });

        private void CompletePrimary(RedundantPair pair, PairTransaction txn)
        {
            try
            {
                txn.CompletePrimary(_cancellationToken);
            }
            catch (BackupVerificationException ex)
            {
                txn.Complete();
                _svm.Raise(SvmEvents.UpgradeCopyNotVerified, LogLevel.Error,
                    $"{ex.Path} does not verify against the SGC file on the primary {_svm.NameOf(pair.Primary)} and could not be healed; it was not copied to {_svm.NameOf(pair.Secondary)}",
                    device: _svm.NameOf(pair.Primary));
                InvalidateUnverifiedAlternate(pair);
                throw;
            }
        }

        private PairTransactionOptions TransactionOptions() => new()
        {
            RestrictPrimaryDuringBackup = _svm._options.RestrictPrimaryDuringUpgradeCopy,
            RestrictedReadTimeout = _svm._options.RestrictedReadTimeout,
            BackupCheck = (area, path, content) => path.StartsWith(StreamingInstallState.Prefix, StringComparison.Ordinal) || _check!.Check(area, path, content),
        };
    }
}

using Flash.Svm.Packages;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>
    /// The components of a streaming install in slices: the bytes of a component the upgrade stores are gathered in
    /// one buffer of <see cref="SliceSize"/> bytes; each full slice is committed (a ranged write of the component file,
    /// <see cref="Ffs.Mirror.PairTransaction.WriteAlternateAt"/>) with the install record, whose durable offset then
    /// points just after it. The last slice is committed only once the component's digest verified. A resumed install
    /// that stopped inside a component reads the stored part back from the primary to rebuild the digest state.
    /// </summary>
    private sealed partial class StreamingInstall
    {
        /// <summary>Bytes of a component committed at a time (and the granularity a power cut loses at most).</summary>
        internal const int SliceSize = 256 * 1024;

        private byte[]? _slice;
        private int _sliceHeld;
        private long _componentStored;

        public void OnComponentBytes(PackageEntry entry, ReadOnlySpan<byte> data)
        {
            if (!_download.Contains(entry.Name))
            {
                return;
            }

            var slice = _slice ??= new byte[SliceSize];
            while (!data.IsEmpty)
            {
                int n = Math.Min(data.Length, slice.Length - _sliceHeld);
                data[..n].CopyTo(slice.AsSpan(_sliceHeld));
                _sliceHeld += n;
                data = data[n..];
                if (_sliceHeld == slice.Length && _componentStored + _sliceHeld < entry.Length)
                {
                    // More of the component follows: this slice is stored as pending data now (the digest comes at the end).
                    StoreSlice(entry, last: false, _reader.Header!.Length + entry.Offset + _componentStored + _sliceHeld);
                }
            }
        }

        public void OnComponentVerified(PackageEntry entry, long endOffset)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (!_download.Contains(entry.Name))
            {
                return;
            }

            // Stored as pending: the alternate stays Writing (never activatable) until the envelope verified.
            StoreSlice(entry, last: true, endOffset);
            _stored++;
            _progress?.Report(new UpgradeProgress("store-primary", endOffset, Total, _stored, _downloadList.Count));
            _progress?.Report(new UpgradeProgress("copy-secondary", endOffset, Total, _stored, _downloadList.Count));
        }

        /// <summary>Commits the held slice of <paramref name="entry"/> with the install record saying <paramref name="durable"/>.</summary>
        private void StoreSlice(PackageEntry entry, bool last, long durable)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            var slice = _slice ??= new byte[SliceSize];
            var (at, n) = (_componentStored, _sliceHeld);
            var state = _state = _state! with { Durable = durable };
            var path = SvmLayout.Component(entry.Name);
            Commit(txn =>
            {
                if (at == 0 && last)
                {
                    // A component of one slice is one whole file, which the backup checks against its SGC digest too.
                    txn.WriteAlternate(path, slice.AsSpan(0, n));
                }
                else
                {
                    txn.WriteAlternateAt(path, at, slice.AsSpan(0, n));
                }

                txn.WriteAlternate(StreamingInstallState.Path, state.Encode());
            });
            (_componentStored, _sliceHeld) = (last ? 0 : at + n, 0);
            _written += n;
            if (!last)
            {
                _progress?.Report(new UpgradeProgress("store-slice", durable, Total, _stored, _downloadList.Count));
            }
        }

        /// <summary>
        /// When the resumed stream continues inside a component: feeds the stored part of it, read back from the
        /// primary slice by slice, to the reader's digests (the cost of resuming mid-component: one read of that part).
        /// </summary>
        /// <returns>False when the stored part does not fit the record (the install then starts over).</returns>
        private bool RestorePartialComponent()
        {
            if (_reader.ResumedEntry is not { } entry)
            {
                return true;
            }

            var path = SvmLayout.Component(entry.Name);
            long prefix = _reader.PrefixToRestore;
            if (!_download.Contains(entry.Name) || Pair.AlternateLength(path, _cancellationToken) != prefix)
            {
                return false;
            }

            var buffer = _slice ??= new byte[SliceSize];
            for (long at = 0; at < prefix;)
            {
                int n;
                try
                {
                    n = Pair.ReadAlternateRange(path, at, buffer.AsSpan(0, (int)Math.Min(buffer.Length, prefix - at)), _cancellationToken);
                }
                catch (Ffs.FlashDataCorruptException)
                {
                    // A damaged page is healed from the secondary's copy by the ranged read itself; this is a range
                    // neither device holds intact: it is downloaded again (from zero, like any unusable record).
                    return false;
                }

                if (n == 0)
                {
                    return false;
                }

                _reader.RestorePrefix(buffer.AsSpan(0, n));
                at += n;
            }

            (_componentStored, _sliceHeld) = (prefix, 0);
            return true;
        }

        private void ResetSlices() => (_componentStored, _sliceHeld) = (0, 0);
    }
}

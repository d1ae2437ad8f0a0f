using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>
/// Ranged reads of the current context, for servers that stream large files (TFTP/FTP of component files) without
/// holding them in memory, and an explicit heal for corruption the file system's page CRCs cannot see.
/// </summary>
public sealed partial class RedundantPair
{
    /// <summary>The length of a file of the current context on the primary.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The length in bytes.</returns>
    /// <exception cref="FlashPathNotFoundException">The file does not exist.</exception>
    public async Task<long> CurrentLengthAsync(string path, CancellationToken cancellationToken = default)
    {
        await AdmitReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ServeAsync(s => s.FileSystem.GetEntry(ContextStore.Absolute(s.Current, path)).Length, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _readGate.Release();
        }
    }

    /// <summary>
    /// Reads bytes of a file of the current context from the primary, starting at <paramref name="offset"/>, until
    /// <paramref name="destination"/> is full or the file ends. A page unreadable on the primary is repaired from the
    /// secondary first (the same self-heal as <see cref="ReadCurrentAsync"/>).
    /// </summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="offset">Byte offset in the file.</param>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>Bytes read: less than the destination's length only at the end of the file.</returns>
    public async Task<int> ReadCurrentRangeAsync(string path, long offset, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        FlashDataCorruptException corrupt;
        await AdmitReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ServeAsync(s => ReadRange(s, path, offset, destination.Span), cancellationToken).ConfigureAwait(false);
        }
        catch (FlashDataCorruptException ex)
        {
            corrupt = ex;
        }
        finally
        {
            _readGate.Release();
        }

        // As in ReadCurrentAsync: the repair waits for the alternate gate without holding a read slot (a restricting
        // backup holds that gate and drains the slots).
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var whole = await HealAsync(corrupt, path, current: true, cancellationToken).ConfigureAwait(false);
            if (offset >= whole.Length)
            {
                return 0;
            }

            int n = (int)Math.Min(destination.Length, whole.Length - offset);
            whole.AsSpan((int)offset, n).CopyTo(destination.Span);
            return n;
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    /// <summary>
    /// Rewrites the primary's copy of a current-context file from the secondary's copy when <paramref name="accept"/>
    /// approves the secondary's content (e.g. it matches the digest a reader expected and the primary's copy did not).
    /// For corruption that passed the file system's checks; page-level corruption heals on every read already.
    /// </summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="accept">Decides whether the secondary's content is the right one.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>True when the primary was rewritten; false when the primary's copy is accepted as it is, or there is no usable secondary copy, or it was not accepted.</returns>
    public async Task<bool> HealCurrentAsync(string path, Func<ReadOnlyMemory<byte>, bool> accept, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(accept);

        // A repair, like ReadCurrentAsync's: under the alternate gate only, never holding a read slot while it waits
        // for that gate (a restricting backup holds the gate and drains the slots).
        await _alternateGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var p = Active();
            var b = Backup();
            if (b is null || b.Store!.Table.Sequence != p.Store!.Table.Sequence)
            {
                return false;
            }

            string abs = ContextStore.Absolute(p.Store.Current, path);
            bool primaryGood = await OnDeviceAsync(() =>
            {
                try
                {
                    return p.Store.FileSystem.Exists(abs) && accept(p.Store.FileSystem.ReadAllBytes(abs));
                }
                catch (Exception ex) when (ex is FlashDataCorruptException || IsDeviceFailure(ex))
                {
                    return false;
                }
            }, cancellationToken).ConfigureAwait(false);
            if (primaryGood)
            {
                return false; // nothing to repair: the primary's copy is the right one
            }

            byte[]? data = await OnDeviceAsync(() =>
            {
                try
                {
                    return b.Store.FileSystem.Exists(abs) ? b.Store.FileSystem.ReadAllBytes(abs) : null;
                }
                catch (Exception ex) when (ex is FlashDataCorruptException || IsDeviceFailure(ex))
                {
                    if (IsDeviceFailure(ex))
                    {
                        Fail(b, ex);
                    }

                    return null;
                }
            }, cancellationToken).ConfigureAwait(false);
            if (data is null || !accept(data))
            {
                return false;
            }

            await DeviceStepAsync(p, () => p.Store.FileSystem.WriteAllBytes(abs, data)).ConfigureAwait(false);
            ReportHeal(p, abs);
            return true;
        }
        finally
        {
            _alternateGate.Release();
        }
    }

    private static int ReadRange(ContextStore store, string path, long offset, Span<byte> destination)
    {
        using var file = store.FileSystem.OpenRead(ContextStore.Absolute(store.Current, path));
        if (offset >= file.Length)
        {
            return 0;
        }

        file.Seek(offset, SeekOrigin.Begin);
        int total = 0;
        while (total < destination.Length)
        {
            int n = file.Read(destination[total..]);
            if (n == 0)
            {
                break;
            }

            total += n;
        }

        return total;
    }
}

using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>Reads: of the current context through the read slots, of the alternate under the alternate gate, of one given device.</summary>
public sealed partial class RedundantPair
{
    /// <summary>Reads a file of the current context from the primary; a file unreadable there is repaired from the secondary.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content.</returns>
    /// <exception cref="PrimaryRestrictedException">A restricting backup outlasted its bound.</exception>
    public async Task<byte[]> ReadCurrentAsync(string path, CancellationToken cancellationToken = default)
    {
        var (data, corrupt) = await UnderReadAsync(() => TryServe(s => s.ReadCurrent(path)), cancellationToken).ConfigureAwait(false);

        // The repair waits for the alternate gate without holding a read slot (a restricting backup drains the slots).
        return corrupt is null ? data! : await UnderAlternateAsync(() => _healer.Heal(corrupt, path, current: true), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads a file of the current context from the primary; a file unreadable there is repaired from the secondary.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content.</returns>
    /// <exception cref="PrimaryRestrictedException">A restricting backup outlasted its bound.</exception>
    public byte[] ReadCurrent(string path, CancellationToken cancellationToken = default)
    {
        var (data, corrupt) = UnderRead(() => TryServe(s => s.ReadCurrent(path)), cancellationToken);
        return corrupt is null ? data! : UnderAlternate(() => _healer.Heal(corrupt, path, current: true), cancellationToken);
    }

    /// <summary>Lists the files of the current context (sorted relative paths).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public Task<IReadOnlyList<string>> ListCurrentAsync(CancellationToken cancellationToken = default)
        => UnderReadAsync(() => _failover.Serve(s => s.ListCurrent()), cancellationToken);

    /// <summary>Lists the files of the current context (sorted relative paths).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public IReadOnlyList<string> ListCurrent(CancellationToken cancellationToken = default)
        => UnderRead(() => _failover.Serve(s => s.ListCurrent()), cancellationToken);

    /// <summary>Reads a file of the alternate context from the primary (waits while a change of the alternate is being mirrored).</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content.</returns>
    public Task<byte[]> ReadAlternateAsync(string path, CancellationToken cancellationToken = default)
        => UnderAlternateAsync(() => ServeOrHeal(s => s.ReadAlternate(path), path, current: false), cancellationToken);

    /// <summary>Reads a file of the alternate context from the primary (waits while a change of the alternate is being mirrored).</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content.</returns>
    public byte[] ReadAlternate(string path, CancellationToken cancellationToken = default)
        => UnderAlternate(() => ServeOrHeal(s => s.ReadAlternate(path), path, current: false), cancellationToken);

    /// <summary>Lists the files of the alternate context (sorted relative paths).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public Task<IReadOnlyList<string>> ListAlternateAsync(CancellationToken cancellationToken = default)
        => UnderAlternateAsync(() => _failover.Serve(s => s.ListAlternate()), cancellationToken);

    /// <summary>Lists the files of the alternate context (sorted relative paths).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public IReadOnlyList<string> ListAlternate(CancellationToken cancellationToken = default)
        => UnderAlternate(() => _failover.Serve(s => s.ListAlternate()), cancellationToken);

    /// <summary>Reads a file of an area on one given device (no self-heal, no fallback): for verifying each device separately.</summary>
    /// <param name="member">The device.</param>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content, or null when the file does not exist.</returns>
    /// <exception cref="FlashDataCorruptException">The file cannot be read back correctly on that device.</exception>
    public Task<byte[]?> TryReadAsync(PairMember member, ContextArea area, string path, CancellationToken cancellationToken = default)
    {
        var store = StoreOf(member);
        return UnderReadAsync(() => OnDevice(() => store.Exists(area, path) ? store.Read(area, path) : null), cancellationToken);
    }

    /// <summary>Reads a file of an area on one given device (no self-heal, no fallback): for verifying each device separately.</summary>
    /// <param name="member">The device.</param>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The content, or null when the file does not exist.</returns>
    /// <exception cref="FlashDataCorruptException">The file cannot be read back correctly on that device.</exception>
    public byte[]? TryRead(PairMember member, ContextArea area, string path, CancellationToken cancellationToken = default)
    {
        var store = StoreOf(member);
        return UnderRead(() => OnDevice(() => store.Exists(area, path) ? store.Read(area, path) : null), cancellationToken);
    }

    /// <summary>Lists the files of an area on one given device (sorted relative paths).</summary>
    /// <param name="member">The device.</param>
    /// <param name="area">The area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public Task<IReadOnlyList<string>> ListAsync(PairMember member, ContextArea area, CancellationToken cancellationToken = default)
    {
        var store = StoreOf(member);
        return UnderReadAsync(() => OnDevice(() => store.List(area)), cancellationToken);
    }

    /// <summary>Lists the files of an area on one given device (sorted relative paths).</summary>
    /// <param name="member">The device.</param>
    /// <param name="area">The area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The files.</returns>
    public IReadOnlyList<string> List(PairMember member, ContextArea area, CancellationToken cancellationToken = default)
    {
        var store = StoreOf(member);
        return UnderRead(() => OnDevice(() => store.List(area)), cancellationToken);
    }

    /// <summary>The length of a file of the current context on the primary.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The length in bytes.</returns>
    /// <exception cref="FlashPathNotFoundException">The file does not exist.</exception>
    public Task<long> CurrentLengthAsync(string path, CancellationToken cancellationToken = default)
        => UnderReadAsync(() => _failover.Serve(s => s.FileSystem.GetEntry(ContextStore.Absolute(s.Current, path)).Length), cancellationToken);

    /// <summary>The length of a file of the current context on the primary.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The length in bytes.</returns>
    /// <exception cref="FlashPathNotFoundException">The file does not exist.</exception>
    public long CurrentLength(string path, CancellationToken cancellationToken = default)
        => UnderRead(() => _failover.Serve(s => s.FileSystem.GetEntry(ContextStore.Absolute(s.Current, path)).Length), cancellationToken);

    /// <summary>
    /// Reads bytes of a file of the current context from the primary, starting at <paramref name="offset"/>, until
    /// <paramref name="destination"/> is full or the file ends. A page unreadable on the primary is repaired from the
    /// secondary first (the ranged form of <see cref="ReadCurrentAsync"/>'s self-heal: the chunks of the range only). For servers that stream large files
    /// (TFTP/FTP of component files) without holding them in memory.
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
        await _gates.EnterReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _failover.ServeRange(path, offset, destination.Span, cancellationToken: CancellationToken.None);
        }
        catch (FlashDataCorruptException ex)
        {
            corrupt = ex;
        }
        finally
        {
            _gates.ExitRead();
        }

        // As in ReadCurrentAsync: the repair waits for the alternate gate without holding a read slot. Only the chunks
        // of the range are repaired (and held), not the whole file.
        return await UnderAlternateAsync(() => _healer.HealRange(corrupt, path, offset, destination.Span, current: true), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Reads bytes of a file of the current context from the primary, starting at <paramref name="offset"/>, until
    /// <paramref name="destination"/> is full or the file ends. A page unreadable on the primary is repaired from the
    /// secondary first (the ranged form of <see cref="ReadCurrent"/>'s self-heal: the chunks of the range only).
    /// </summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="offset">Byte offset in the file.</param>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>Bytes read: less than the destination's length only at the end of the file.</returns>
    public int ReadCurrentRange(string path, long offset, Span<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        FlashDataCorruptException corrupt;
        _gates.EnterRead(cancellationToken);
        try
        {
            return _failover.ServeRange(path, offset, destination, cancellationToken: CancellationToken.None);
        }
        catch (FlashDataCorruptException ex)
        {
            corrupt = ex;
        }
        finally
        {
            _gates.ExitRead();
        }

        _gates.EnterAlternate(cancellationToken);
        try
        {
            return _healer.HealRange(corrupt, path, offset, destination, current: true);
        }
        finally
        {
            _gates.ExitAlternate();
        }
    }
}

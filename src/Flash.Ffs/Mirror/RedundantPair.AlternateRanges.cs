using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>
/// Files of the alternate context in parts: a large file is written in bounded slices by caller-held transactions
/// (<see cref="PairTransaction.WriteAlternateAt"/>) and read back in slices here, so neither side holds it whole.
/// </summary>
public sealed partial class RedundantPair
{
    /// <summary>
    /// Reads bytes of a file of the alternate context from the primary, starting at <paramref name="offset"/>, until
    /// <paramref name="destination"/> is full or the file ends (waits while a change of the alternate is being
    /// mirrored). When the primary fails, the survivor serves the read.
    /// </summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="offset">Byte offset in the file.</param>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the wait for the alternate gate.</param>
    /// <returns>Bytes read: less than the destination's length only at the end of the file.</returns>
    /// <exception cref="FlashPathNotFoundException">The file does not exist.</exception>
    /// <exception cref="FlashDataCorruptException">The range cannot be read correctly on the primary and the secondary holds no good copy of it.</exception>
    /// <remarks>A range unreadable on the primary is read from the secondary's copy, rewritten on the primary and
    /// served from it (<see cref="PairHealer.HealRange"/>: the ranged self-heal, bounded by the range, not the file).</remarks>
    public int ReadAlternateRange(string path, long offset, Span<byte> destination, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        _gates.EnterAlternate(cancellationToken);
        try
        {
            return _failover.ServeRange(path, offset, destination, alternate: true, cancellationToken);
        }
        catch (FlashDataCorruptException corrupt)
        {
            // A repair is a change of the alternate: the gate held for the read covers it.
            return _healer.HealRange(corrupt, path, offset, destination, current: false);
        }
        finally
        {
            _gates.ExitAlternate();
        }
    }

    /// <summary>The length of a file of the alternate context on the primary.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels the wait for the alternate gate.</param>
    /// <returns>The length in bytes, or -1 when the file does not exist.</returns>
    public long AlternateLength(string path, CancellationToken cancellationToken = default)
        => UnderAlternate(() => _failover.Serve(s => s.Exists(s.Alternate, path) ? s.FileSystem.GetEntry(ContextStore.Absolute(s.Alternate, path)).Length : -1), cancellationToken);
}

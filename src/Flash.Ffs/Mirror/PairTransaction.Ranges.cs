using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>Writes of part of a file of the alternate context inside a caller-held transaction.</summary>
public sealed partial class PairTransaction
{
    /// <summary>
    /// Stages a write of part of a file of the alternate context: <paramref name="data"/> replaces the bytes from
    /// <paramref name="offset"/> on, and the file grows when it passes the end. The file must hold at least
    /// <paramref name="offset"/> bytes when the transaction commits, or, with <paramref name="offset"/> 0, may not exist
    /// yet. Committed like every operation of the transaction: on the primary in its one atomic commit, then the range
    /// is read back from the primary, compared with these bytes and that copy committed on the secondary (the
    /// <see cref="PairTransactionOptions.BackupCheck"/> sees whole files only, so it is not called for a range).
    /// A large file is so written in bounded slices, each durable with whatever else its transaction holds.
    /// </summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="offset">Where the data goes.</param>
    /// <param name="data">The bytes (copied now).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative; nothing was staged.</exception>
    /// <exception cref="ArgumentException">The transaction already changes this file (one range of a file per transaction, and no other change of it); nothing was staged.</exception>
    /// <exception cref="PairTransactionStateException">The transaction is not open.</exception>
    public void WriteAlternateAt(string path, long offset, ReadOnlySpan<byte> data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        Stage(ContextOperation.WriteRange(Table.Alternate, path, offset, _buffers.Copy(data)));
    }

    /// <summary>A range must be the only change of its file in the transaction: its read-back and copy cover just those bytes.</summary>
    private void RefuseBesideRange(ContextOperation op)
    {
        IEnumerable<string> paths = op.Files is { } files ? files.Select(f => f.Key) : op.Kind == ContextOperationKind.Delete ? [op.Path!] : [];
        foreach (var path in paths)
        {
            string abs = ContextStore.Absolute(op.Area, path);
            if (_staged.TryGetValue(abs, out var f) && (f.At is not null || op.At is not null))
            {
                throw new ArgumentException($"Transaction {Id} already changes {abs}; a range of a file must be the only change of it in a transaction.", nameof(op));
            }
        }
    }

    /// <summary>The primary's committed content with a staged range written over it (what the transaction will leave).</summary>
    private byte[] WithStagedRange(string abs, long at, byte[] data)
    {
        byte[] committed = _pair.ExistsOnPrimary(abs) ? _pair.ReadOnPrimary(abs) : [];
        var result = new byte[Math.Max(committed.Length, at + data.Length)];
        committed.CopyTo(result, 0);
        data.CopyTo(result, at);
        return result;
    }
}

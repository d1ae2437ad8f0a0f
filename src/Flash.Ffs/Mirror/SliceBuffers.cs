namespace Flash.Ffs.Mirror;

/// <summary>
/// Byte arrays of exact lengths reused from one caller-held transaction to the next: the staged copy of each file a
/// transaction writes and the primary's read-back of it for the secondary. A streaming install commits a slice of
/// 256 KiB per transaction; two fresh arrays per slice are large-object-heap garbage, which only a full collection
/// frees, so they piled up to many MiB before it ran (issue 21: ≤ 1 MiB of buffers whatever the package size). The
/// context operations and the file system take whole arrays (the length is the data's), so <c>ArrayPool</c>'s
/// rounded-up arrays do not fit.
/// </summary>
/// <remarks>Owned by the pair. Keeps at most <see cref="Kept"/> arrays of <see cref="MinLength"/> to
/// <see cref="MaxLength"/> bytes (smaller arrays are cheap gen0 garbage, larger ones not worth holding); an array is
/// handed back only when nothing references it any more: the transaction completed or aborted, the secondary's commit
/// of a read-back returned.</remarks>
internal sealed class SliceBuffers
{
    /// <summary>The smallest array kept.</summary>
    internal const int MinLength = 16 * 1024;

    /// <summary>The largest array kept.</summary>
    internal const int MaxLength = 1 << 20;

    private const int Kept = 4;
    private readonly byte[]?[] _free = new byte[Kept][];
    private readonly Lock _lock = new();
    private int _next;

    /// <summary>An array of exactly <paramref name="length"/> bytes (contents undefined): a kept one, or a new one.</summary>
    public byte[] Take(int length)
    {
        if (length is >= MinLength and <= MaxLength)
        {
            lock (_lock)
            {
                for (int i = 0; i < Kept; i++)
                {
                    if (_free[i] is { } a && a.Length == length)
                    {
                        _free[i] = null;
                        return a;
                    }
                }
            }
        }

        return GC.AllocateUninitializedArray<byte>(length);
    }

    /// <summary>A copy of <paramref name="data"/> in an array of its length.</summary>
    public byte[] Copy(ReadOnlySpan<byte> data)
    {
        var copy = Take(data.Length);
        data.CopyTo(copy);
        return copy;
    }

    /// <summary>Keeps <paramref name="array"/> for a later <see cref="Take"/>; the caller no longer uses it, nor does anything it handed it to.</summary>
    public void Give(byte[]? array)
    {
        if (array is null || array.Length is < MinLength or > MaxLength)
        {
            return;
        }

        lock (_lock)
        {
            int slot = Array.IndexOf(_free, null);
            if (slot < 0)
            {
                slot = _next;
                _next = (_next + 1) % Kept;
            }

            _free[slot] = array;
        }
    }
}

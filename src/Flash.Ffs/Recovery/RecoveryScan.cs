namespace Flash.Ffs.Recovery;

/// <summary>What the recovery scan of the blocks written after the checkpoint found.</summary>
internal sealed class RecoveryScan
{
    /// <summary>Log pages (data and metadata) newer than the checkpoint, in scan order.</summary>
    public List<LoggedPage> Logged { get; } = [];

    /// <summary>Every sequence number above the checkpoint's that a readable page carries.</summary>
    public List<ulong> Seen { get; } = [];

    /// <summary>Pages that were programmed but whose tag cannot be read.</summary>
    public List<int> Damaged { get; } = [];

    /// <summary>Per block written after the checkpoint: the sequence its first page has (or would have, counting back from the first readable page) and its newest.</summary>
    public Dictionary<int, (ulong First, ulong Last)> Touched { get; } = [];

    /// <summary>Notes a readable page newer than the checkpoint at index <paramref name="index"/> of <paramref name="block"/>.</summary>
    public void Touch(int block, int index, ulong sequence)
        => Touched[block] = Touched.TryGetValue(block, out var range)
            ? (range.First, sequence)
            : (sequence - Math.Min(sequence, (ulong)index), sequence);
}

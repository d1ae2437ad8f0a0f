using System.Numerics;
using Flash.Ffs.Index;

namespace Flash.Ffs.Wear;

/// <summary>
/// One bit a block, set when something a checkpoint records for the block changed (a dirty bitmap, issue 19): what a
/// delta checkpoint walks to find the block-table entries it must list, instead of comparing every block with a RAM
/// copy of its base's table. Set bits are walked a word at a time (<see cref="BitOperations.TrailingZeroCount(ulong)"/>),
/// so clean words cost one test each.
/// </summary>
internal sealed class DirtyBlocks
{
    private readonly ulong[] _words;

    /// <summary>Creates a clean bitmap.</summary>
    /// <param name="blocks">Blocks it covers.</param>
    public DirtyBlocks(int blocks)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(blocks);
        Length = blocks;
        _words = new ulong[(blocks + 63) / 64];
    }

    /// <summary>Blocks it covers.</summary>
    public int Length { get; }

    /// <summary>RAM held: this object and its words (one bit a block).</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference + 4) + RamSize.Array(8, _words.Length);

    /// <summary>The bits, 64 blocks a word (block = word index * 64 + bit).</summary>
    public ReadOnlySpan<ulong> Words => _words;

    /// <summary>Whether <paramref name="block"/> is set.</summary>
    /// <param name="block">The block.</param>
    /// <returns>Whether it is dirty.</returns>
    public bool this[int block]
    {
        get
        {
            SparsePageCounts.CheckBlock(block, Length);
            return (_words[block >> 6] & (1UL << (block & 63))) != 0;
        }
    }

    /// <summary>Sets <paramref name="block"/>'s bit.</summary>
    /// <param name="block">The block.</param>
    public void Set(int block)
    {
        SparsePageCounts.CheckBlock(block, Length);
        _words[block >> 6] |= 1UL << (block & 63);
    }

    /// <summary>Clears every bit.</summary>
    public void Clear() => Array.Clear(_words);

    /// <summary>Bits set.</summary>
    /// <returns>The count.</returns>
    public int Count()
    {
        int n = 0;
        foreach (ulong w in _words)
        {
            n += BitOperations.PopCount(w);
        }

        return n;
    }

    /// <summary>Appends the set blocks to <paramref name="into"/>, ascending (no work for a clean word, no allocation once its capacity suffices).</summary>
    /// <param name="into">Receives the blocks.</param>
    public void AppendSet(List<int> into)
    {
        for (int i = 0; i < _words.Length; i++)
        {
            ulong w = _words[i];
            while (w != 0)
            {
                into.Add((i << 6) + BitOperations.TrailingZeroCount(w));
                w &= w - 1;
            }
        }
    }
}

using Flash.Ffs.Index;

namespace Flash.Ffs.Blocks;

/// <summary>
/// How many good blocks outside the anchors have each erase count, kept as counts rise and blocks enter or leave
/// service: the highest, lowest and mean count (which the cold head's block choice and the wear rule ask for on every block
/// opened) and the number of such blocks, without a walk over the block table.
/// </summary>
internal sealed class EraseCountSummary
{
    private readonly Dictionary<uint, int> _blocksAt = [];
    private long _sum;

    /// <summary>Blocks counted.</summary>
    public int Count { get; private set; }

    /// <summary>The highest erase count among them (0 when there are none).</summary>
    public uint Max { get; private set; }

    /// <summary>The lowest erase count among them (0 when there are none): a bound that lets the wear rule skip its walk.</summary>
    public uint Min { get; private set; }

    /// <summary>Their mean erase count (0 when there are none).</summary>
    public double Mean => Count == 0 ? 0 : (double)_sum / Count;

    /// <summary>RAM held: this object and one dictionary entry per distinct erase count.</summary>
    public long RamBytes => RamSize.Object(RamSize.Reference + 8 + 4 + 4) + RamSize.Dictionary(16, _blocksAt.Count);

    /// <summary>Counts a block with erase count <paramref name="eraseCount"/>.</summary>
    public void Add(uint eraseCount)
    {
        _blocksAt[eraseCount] = _blocksAt.GetValueOrDefault(eraseCount) + 1;
        _sum += eraseCount;
        Count++;
        Max = Math.Max(Max, eraseCount);
        Min = Count == 1 ? eraseCount : Math.Min(Min, eraseCount);
    }

    /// <summary>Stops counting a block counted with <paramref name="eraseCount"/>.</summary>
    public void Remove(uint eraseCount)
    {
        int left = _blocksAt[eraseCount] - 1;
        if (left == 0)
        {
            _blocksAt.Remove(eraseCount);
        }
        else
        {
            _blocksAt[eraseCount] = left;
        }

        _sum -= eraseCount;
        Count--;
        if (Count == 0)
        {
            Max = 0;
            Min = 0;
            return;
        }

        // Counts sit close together, so this walks a few steps at most.
        if (left == 0 && eraseCount == Max)
        {
            while (!_blocksAt.ContainsKey(Max))
            {
                Max--;
            }
        }

        if (left == 0 && eraseCount == Min)
        {
            while (!_blocksAt.ContainsKey(Min))
            {
                Min++;
            }
        }
    }

    /// <summary>Forgets every block.</summary>
    public void Clear()
    {
        _blocksAt.Clear();
        _sum = 0;
        Count = 0;
        Max = 0;
        Min = 0;
    }
}

using Flash.Ffs.Index;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Checkpoint;

/// <summary>
/// Blocks held (<see cref="BlockTable.Held"/>) for transactions that ended after a checkpoint listed them: a mount
/// may still recover from that checkpoint, and replaying such a transaction's commit needs the pages it wrote before
/// the checkpoint. Each group is released by the first checkpoint committed at or after its sequence.
/// </summary>
internal sealed class HeldBlocks(BlockTable blocks)
{
    private readonly List<(ulong Until, List<int> Blocks)> _groups = [];

    /// <summary>Groups still held.</summary>
    public int Count => _groups.Count;

    /// <summary>RAM held: this object, the group list and each group's block list.</summary>
    public long RamBytes
    {
        get
        {
            long ram = RamSize.Object(2 * RamSize.Reference) + RamSize.List(16, _groups.Capacity); // (ulong, List<int>)
            foreach (var (_, group) in _groups)
            {
                ram += RamSize.List(4, group.Capacity);
            }

            return ram;
        }
    }

    /// <summary>Keeps blocks already counted in <see cref="BlockTable.Held"/> held until a checkpoint at or after <c>Until</c> commits.</summary>
    /// <param name="held">The sequence from which a checkpoint no longer needs them, and the blocks.</param>
    public void Add((ulong Until, List<int> Blocks) held) => _groups.Add(held);

    /// <summary>A checkpoint taken at <paramref name="sequence"/> committed: the groups it no longer needs let go of their blocks.</summary>
    /// <param name="sequence">The committed checkpoint's sequence.</param>
    public void Release(ulong sequence)
    {
        _groups.RemoveAll(held =>
        {
            if (held.Until > sequence)
            {
                return false;
            }

            foreach (int b in held.Blocks)
            {
                // A block retired meanwhile was cleared; its count is already gone.
                if (blocks.Held[b] > 0)
                {
                    blocks.Held[b]--;
                }
            }

            return true;
        });
    }
}

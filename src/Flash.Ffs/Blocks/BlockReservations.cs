using Flash.Ffs.Index;

namespace Flash.Ffs.Blocks;

/// <summary>
/// The erased free blocks the last checkpoint named as the ones the hot head, the cold head and the next checkpoint
/// start in. A mount reads their first pages to tell whether anything was written after the checkpoint, so a reserved
/// block is not handed out for anything else while another free block is left. -1 is no reservation.
/// </summary>
internal sealed class BlockReservations
{
    /// <summary>RAM held: this object (three ints).</summary>
    public static long RamBytes => RamSize.Object(3 * 4);

    /// <summary>The block the hot head opens next.</summary>
    public int Hot { get; set; } = -1;

    /// <summary>The block the cold head opens next.</summary>
    public int Cold { get; set; } = -1;

    /// <summary>The block the next checkpoint starts in.</summary>
    public int Checkpoint { get; set; } = -1;

    /// <summary>Whether <paramref name="block"/> is reserved by anyone.</summary>
    public bool Holds(int block) => block == Hot || block == Cold || block == Checkpoint;

    /// <summary>Drops every reservation of <paramref name="block"/> (it is being used after all); nothing for -1.</summary>
    public void Drop(int block)
    {
        if (block < 0)
        {
            return;
        }

        if (Hot == block)
        {
            Hot = -1;
        }

        if (Cold == block)
        {
            Cold = -1;
        }

        if (Checkpoint == block)
        {
            Checkpoint = -1;
        }
    }
}

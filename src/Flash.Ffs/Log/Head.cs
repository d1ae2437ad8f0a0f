using Flash.Ffs.Blocks;

namespace Flash.Ffs.Log;

/// <summary>Which stream of the log a head writes.</summary>
internal enum HeadKind
{
    /// <summary>User writes; opens the least-worn free block.</summary>
    Hot,

    /// <summary>Garbage-collection and wear-levelling copies (data that has proven cold); opens the most-worn free block.</summary>
    Cold,
}

/// <summary>A write position in the log: the block being filled, the next page in it, and the block it will open next.</summary>
internal sealed class Head
{
    private readonly BlockReservations _reservations;

    public Head(HeadKind kind, BlockReservations reservations)
    {
        Kind = kind;
        _reservations = reservations;
    }

    public HeadKind Kind { get; }

    public int Block { get; set; } = -1;

    public int WritePointer { get; set; }

    /// <summary>
    /// The erased block this head opens next, chosen at the last checkpoint so a mount can tell whether anything was
    /// written since; kept in the pool's <see cref="BlockReservations"/>, which the allocator consults.
    /// </summary>
    public int ReservedNext
    {
        get => Kind == HeadKind.Hot ? _reservations.Hot : _reservations.Cold;
        set
        {
            if (Kind == HeadKind.Hot)
            {
                _reservations.Hot = value;
            }
            else
            {
                _reservations.Cold = value;
            }
        }
    }

    /// <summary>Whether <see cref="Block"/> was already being written when this mount found it (its pages are checked before each program).</summary>
    public bool Inherited { get; set; }

    public void Reset()
    {
        Inherited = false;
        Block = -1;
        WritePointer = 0;
        ReservedNext = -1;
    }
}

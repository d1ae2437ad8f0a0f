namespace Flash.Ffs.Blocks;

/// <summary>
/// The write pool the newest anchor records (docs/format.md, "Anchor page"): the blocks that may be opened for the
/// log or claimed for a checkpoint until the next anchor. Recovery after a power cut reads only these (and the heads'
/// open blocks from their write pointers), so every block a write takes must be listed before it is taken; the pool
/// keeps which members were taken, so that a refill anchor lists them again. Inactive (nothing restricted) on a volume
/// whose anchor records no pool (versions 1 to 4, or an anchor page without room).
/// </summary>
internal sealed class WritePool
{
    private readonly bool[] _member;
    private readonly bool[] _isTaken;
    private int[] _members = [];
    private int _memberCount;

    /// <summary>Members taken before the newest checkpoint's anchor but after its snapshot might have been: still read by recovery.</summary>
    private List<int> _carried = [];

    /// <summary>Blocks taken since the newest checkpoint's anchor (kept whether the pool is active or not: the next checkpoint carries them).</summary>
    private List<int> _taken = [];

    /// <summary>Blocks open at the anchor (the heads'): written past their recorded write pointers without being members.</summary>
    private int[] _openAtAnchor = [];

    /// <summary>Creates an inactive pool over <paramref name="blocks"/> blocks.</summary>
    public WritePool(int blocks)
    {
        _member = new bool[blocks];
        _isTaken = new bool[blocks];
    }

    /// <summary>Whether the newest anchor records a pool (allocation honours it, recovery reads only it).</summary>
    public bool Active { get; private set; }

    /// <summary>The members, in the order the anchor lists them.</summary>
    public IReadOnlyList<int> Members => _members[.._memberCount];

    /// <summary>The members, without a copy (the allocator walks them at every block it opens).</summary>
    public ReadOnlySpan<int> MemberSpan => _members.AsSpan(0, _memberCount);

    /// <summary>Members taken before the newest checkpoint's anchor that recovery still reads (a refill keeps them first).</summary>
    public ReadOnlySpan<int> Carried => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_carried);

    /// <summary>Blocks taken since the newest checkpoint's anchor (every anchor keeps them).</summary>
    public ReadOnlySpan<int> Taken => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_taken);

    /// <summary>Refill anchors written since mount (statistics and tests).</summary>
    public int Refills { get; private set; }

    /// <summary>RAM held: this object, two flags a block, the member and kept lists.</summary>
    public long RamBytes => Index.RamSize.Object((5 * Index.RamSize.Reference) + 4 + 1) + (2 * Index.RamSize.Array(1, _member.Length))
        + Index.RamSize.Array(4, _members.Length + _openAtAnchor.Length) + Index.RamSize.List(4, _carried.Capacity + _taken.Capacity);

    /// <summary>Whether <paramref name="block"/> is a member.</summary>
    public bool Contains(int block) => _member[block];

    /// <summary>Notes that a write takes <paramref name="block"/> (opens it or claims it for a checkpoint).</summary>
    /// <remarks>
    /// Tracked apart from the carried blocks: a carried block taken again (erased by garbage collection and reopened)
    /// may hold pages the next checkpoint does not cover, so the next checkpoint's anchor carries it again.
    /// </remarks>
    public void Take(int block)
    {
        if (!_isTaken[block])
        {
            _isTaken[block] = true;
            _taken.Add(block);
        }
    }

    /// <summary>A checkpoint's anchor recorded <paramref name="members"/>; blocks taken before it are carried.</summary>
    /// <param name="members">The pool the anchor lists.</param>
    /// <param name="active">False: the anchor recorded no pool.</param>
    /// <param name="openAtAnchor">The blocks open at the anchor.</param>
    public void Committed(ReadOnlySpan<int> members, bool active, int[] openAtAnchor)
    {
        // The taken list becomes the carried one and the old carried list, emptied, takes its place: both keep their
        // capacity, so that once they have grown to what an interval takes, bookkeeping allocates nothing.
        _carried.Clear();
        (_carried, _taken) = (_taken, _carried);
        foreach (int b in _carried)
        {
            _isTaken[b] = false;
        }

        Adopt(members, active, openAtAnchor);
    }

    /// <summary>A refill anchor for the same checkpoint recorded <paramref name="members"/> (<paramref name="active"/> false: no pool).</summary>
    public void Refilled(ReadOnlySpan<int> members, bool active)
    {
        Refills++;
        Adopt(members, active, _openAtAnchor);
    }

    /// <summary>
    /// Mount: the newest anchor's pool, the members recovery found used (they stay listed; each once, as the anchor's
    /// pool lists them: AnchorStore.Parse refuses a pool with a block twice) and the heads' blocks open at the checkpoint.
    /// </summary>
    public void Mounted(int[]? members, IEnumerable<int> used, int[] openAtAnchor)
    {
        foreach (int b in _taken)
        {
            _isTaken[b] = false;
        }

        _carried.Clear();
        _taken.Clear();
        _carried.AddRange(used);

        Adopt(members, members is not null, openAtAnchor);
    }

    /// <summary>Whether a page may be programmed in <paramref name="block"/> now (the invariant recovery depends on); anchor blocks are the caller's check.</summary>
    public bool MayProgram(int block) => !Active || _member[block] || Array.IndexOf(_openAtAnchor, block) >= 0;

    /// <summary>The blocks writes may have used (members, open at the anchor, kept) that satisfy <paramref name="isOpen"/>: the next anchor's open blocks.</summary>
    public int[] OpenAmongAllowed(Func<int, bool> isOpen) => [.. _members.Take(_memberCount).Concat(_openAtAnchor).Concat(_carried).Concat(_taken).Distinct().Where(isOpen)];

    private void Adopt(ReadOnlySpan<int> members, bool active, int[] openAtAnchor)
    {
        foreach (int b in MemberSpan)
        {
            _member[b] = false;
        }

        // The member list is kept, not replaced: a refill rewrites it on the write path.
        if (_members.Length < members.Length)
        {
            _members = new int[Math.Max(members.Length, 2 * _members.Length)];
        }

        members.CopyTo(_members);
        _memberCount = members.Length;

        // Every block a write takes while the pool is active is a member: lists of them sized to the pool never grow
        // on the write path.
        _taken.EnsureCapacity(_memberCount);
        _carried.EnsureCapacity(_memberCount);
        foreach (int b in MemberSpan)
        {
            _member[b] = true;
        }

        Active = active;
        _openAtAnchor = openAtAnchor;
    }
}

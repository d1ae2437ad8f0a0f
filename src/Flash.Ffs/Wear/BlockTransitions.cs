namespace Flash.Ffs.Wear;

/// <summary>The named ways a block's <see cref="BlockState"/> may change; <see cref="BlockStates"/> applies them, checked.</summary>
internal enum BlockTransition : byte
{
    /// <summary>A log head starts writing into a free block: Free → Open.</summary>
    Open,

    /// <summary>A head's block is closed: Open → Full.</summary>
    Close,

    /// <summary>A block nothing needs any more goes back to the free pool, to be erased before use: Full or Checkpoint → Free.</summary>
    Release,

    /// <summary>A free block takes checkpoint pages (or an old checkpoint's block is put back after a failed write): Free → Checkpoint.</summary>
    AssignCheckpoint,

    /// <summary>
    /// The block of an abandoned checkpoint keeps pages with sequence numbers recovery must still see, so it is kept
    /// until the next checkpoint covers it: Checkpoint → Full.
    /// </summary>
    AbandonCheckpoint,

    /// <summary>One of the two anchor blocks is taken (format) or (re)started: Free or Anchor → Anchor.</summary>
    AssignAnchor,

    /// <summary>A program failed in the block: its data is moved, and it is marked bad at the next checkpoint: Open or Full → Retiring.</summary>
    Retire,

    /// <summary>The block failed (erase, program of checkpoint pages, marker found) or finished retiring: any usable state → Bad. Bad is final.</summary>
    MarkBad,

    /// <summary>Recovery found pages written in the block after the checkpoint: Free, Open, Full or Checkpoint → Full.</summary>
    WrittenSinceCheckpoint,
}

/// <summary>
/// The block state machine as a pure policy: which state each <see cref="BlockTransition"/> leads to, and from which
/// states it is legal. Everything else (a head opening a retiring block, a bad block coming back) is a bug that
/// <see cref="BlockStates"/> refuses with <see cref="IllegalBlockTransitionException"/> before the table changes.
/// </summary>
internal static class BlockTransitions
{
    private const int Free = 1 << (int)BlockState.Free;
    private const int Open = 1 << (int)BlockState.Open;
    private const int Full = 1 << (int)BlockState.Full;
    private const int Checkpoint = 1 << (int)BlockState.Checkpoint;
    private const int Anchor = 1 << (int)BlockState.Anchor;
    private const int Retiring = 1 << (int)BlockState.Retiring;

    /// <summary>The state a transition leads to.</summary>
    public static BlockState Target(BlockTransition transition) => transition switch
    {
        BlockTransition.Open => BlockState.Open,
        BlockTransition.Close or BlockTransition.AbandonCheckpoint or BlockTransition.WrittenSinceCheckpoint => BlockState.Full,
        BlockTransition.Release => BlockState.Free,
        BlockTransition.AssignCheckpoint => BlockState.Checkpoint,
        BlockTransition.AssignAnchor => BlockState.Anchor,
        BlockTransition.Retire => BlockState.Retiring,
        BlockTransition.MarkBad => BlockState.Bad,
        _ => throw new ArgumentOutOfRangeException(nameof(transition), transition, null),
    };

    /// <summary>Whether <paramref name="transition"/> may be applied to a block in state <paramref name="from"/>.</summary>
    public static bool Allows(BlockTransition transition, BlockState from) => (Sources(transition) & (1 << (int)from)) != 0;

    private static int Sources(BlockTransition transition) => transition switch
    {
        BlockTransition.Open or BlockTransition.AssignCheckpoint => Free,
        BlockTransition.Close => Open,
        BlockTransition.Release => Full | Checkpoint,
        BlockTransition.AbandonCheckpoint => Checkpoint,
        BlockTransition.AssignAnchor => Free | Anchor,
        BlockTransition.Retire => Open | Full,
        BlockTransition.MarkBad => Free | Open | Full | Checkpoint | Anchor | Retiring,
        BlockTransition.WrittenSinceCheckpoint => Free | Open | Full | Checkpoint,
        _ => 0,
    };
}

/// <summary>A block state change that the state machine (<see cref="BlockTransitions"/>) does not allow: a bug in the file system, never bad input.</summary>
internal sealed class IllegalBlockTransitionException : InvalidOperationException
{
    public IllegalBlockTransitionException(int block, BlockState from, BlockTransition transition)
        : base($"Block {block}: {transition} is not allowed from state {from}.")
    {
        Block = block;
        From = from;
        Transition = transition;
    }

    /// <summary>The block.</summary>
    public int Block { get; }

    /// <summary>Its state, unchanged.</summary>
    public BlockState From { get; }

    /// <summary>The refused transition.</summary>
    public BlockTransition Transition { get; }
}

namespace Flash.Ffs.Wear;

/// <summary>What garbage collection needs from the log below it: its position, and moving one live page.</summary>
internal interface IGcLog
{
    /// <summary>The sequence number of the newest page programmed (the age victim choice measures against).</summary>
    ulong Sequence { get; }

    /// <summary>The sequence number the last checkpoint covers: only blocks written up to it may move.</summary>
    ulong CheckpointSequence { get; }

    /// <summary>Whether the cold head (where moved pages go) has no room left in its block.</summary>
    bool ColdHeadFull { get; }

    /// <summary>Pages the cold head still takes before it opens a block that must be erased first; int.MaxValue when its next block is erased.</summary>
    int ColdRoomBeforeErase => int.MaxValue;

    /// <summary>Closes any head writing <paramref name="block"/>, so that the block can move.</summary>
    void CloseHeadsIn(int block);

    /// <summary>Copies one live page to the cold head and points its owner at the copy.</summary>
    void Relocate(int page);
}

/// <summary>
/// The checkpoint as garbage collection may ask for it (a call upwards): garbage written since the last checkpoint
/// cannot move until a checkpoint covers it, so when space runs out collection needs one.
/// </summary>
internal interface ICheckpointTrigger
{
    /// <summary>Whether an incremental checkpoint is being written.</summary>
    bool InProgress { get; }

    /// <summary>Writes one bounded slice of the checkpoint in progress.</summary>
    void AdvanceSlice();

    /// <summary>Completes the checkpoint in progress (committed or abandoned; it always ends).</summary>
    void FinishInProgress();

    /// <summary>
    /// Writes a full checkpoint now if one can cover the state and would let blocks go (blocks were filled since the
    /// last one, or it holds blocks for ended transactions). Returns whether it wrote one.
    /// </summary>
    bool TryWriteToFreeSpace();
}

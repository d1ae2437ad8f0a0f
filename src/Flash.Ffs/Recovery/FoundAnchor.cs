namespace Flash.Ffs.Recovery;

/// <summary>The newest intact anchor page and what it says about the checkpoint and the anchor blocks.</summary>
/// <param name="Block">The block the anchor page was found in.</param>
/// <param name="NextFree">The first erased page of that block: where the next anchor page goes.</param>
/// <param name="Sequence">The anchor page's sequence number (it took one, like every program).</param>
/// <param name="CheckpointPages">The checkpoint's pages, in order.</param>
/// <param name="CheckpointLength">The checkpoint body's length in bytes.</param>
/// <param name="CheckpointCrc">The CRC-32C of the checkpoint body.</param>
/// <param name="AnchorBlock0">The first anchor block the anchor names.</param>
/// <param name="AnchorBlock1">The second anchor block the anchor names.</param>
/// <param name="Pool">The write pool it records (version 5), or null: recovery then reads every free and full block.</param>
internal readonly record struct FoundAnchor(int Block, int NextFree, ulong Sequence, List<int> CheckpointPages, int CheckpointLength, uint CheckpointCrc, int AnchorBlock0, int AnchorBlock1, int[]? Pool);


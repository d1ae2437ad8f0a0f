using Flash.Ffs.Index;

namespace Flash.Ffs.Transactions;

/// <summary>
/// A reference an uncommitted transaction superseded: a data page (with the chunk it held) or a metadata page holding
/// inline data (with the record's offset in it). It stays live until the transaction commits, and it is what the
/// entry looked like before: a checkpoint taken while the transaction is open records it.
/// </summary>
internal readonly record struct Superseded(int Page, bool Inline, uint Chunk, int InlineOffset);

/// <summary>An uncommitted transaction: what its changes released, which pages it wrote and where.</summary>
/// <remarks>
/// A file handle's transaction stays open between calls, and checkpoints do not wait for it (four writers taking turns
/// would starve them). So it also keeps what a checkpoint needs to describe its file as committed: the size and kind
/// the file had before, the pages it wrote (its own, to leave out) and the blocks those are in (recorded in the
/// checkpoint and kept from garbage collection, so that recovery finds the pages written before the checkpoint
/// when the commit comes after it).
/// </remarks>
internal sealed class PendingTxn
{
    /// <summary>Creates an unused transaction for a volume of <paramref name="pagesPerBlock"/>-page blocks.</summary>
    public PendingTxn(int pagesPerBlock) => Own = new OwnPages(pagesPerBlock);

    public uint Id { get; private set; }

    /// <summary>References superseded by this transaction.</summary>
    public List<Superseded> Released { get; } = [];

    /// <summary>Data pages this transaction wrote that a file's chunk map points at (replaced in place, never released).</summary>
    public OwnPages Own { get; }

    /// <summary>Blocks holding pages of this transaction, in the order it first wrote them.</summary>
    public List<int> Blocks { get; } = [];

    /// <summary>How many of <see cref="Blocks"/> a checkpoint holds (keeps from garbage collection, BlockTable.Held).</summary>
    public int HeldBlocks { get; set; }

    /// <summary>
    /// The file's lost-chunk marks when the transaction first touched it (null when it had none): a checkpoint taken
    /// while the handle is open records the file as before the handle, marks included, even those the handle's
    /// truncation or rewrite has forgotten since (LostChunks).
    /// </summary>
    public uint[]? CommittedLost { get; set; }

    /// <summary>The ordinal the transaction's next page gets in its tag: how many of its pages programmed so far (modulo 2^16).</summary>
    public ushort PageOrdinal { get; set; }

    /// <summary>Whether the transaction's last page programmed was a metadata page (the next tag says so, <c>PageFlags.AfterMeta</c>).</summary>
    public bool LastPageMeta { get; set; }

    /// <summary>The file a handle's transaction writes; null for a namespace change (open only within one call).</summary>
    public Node? Node { get; private set; }

    /// <summary>The handle created the file: it is not in the committed state at all.</summary>
    public bool Created { get; private set; }

    /// <summary>The file's committed size when the transaction first touched it.</summary>
    public long CommittedSize { get; private set; }

    /// <summary>Whether the file had a chunk map (even an empty one) when the transaction first touched it.</summary>
    public bool CommittedChunked { get; private set; }

    /// <summary>
    /// Another transaction wrote a record of the same file while this one was open (a rename): the committed state is
    /// no longer this one's "before", so checkpoints wait for it as they used to.
    /// </summary>
    public bool Tainted { get; set; }

    /// <summary>Makes this (new or reused) object the transaction <paramref name="id"/>, with nothing recorded yet.</summary>
    public void Reset(uint id)
    {
        Id = id;
        Released.Clear();
        Own.Clear();
        Blocks.Clear();
        HeldBlocks = 0;
        PageOrdinal = 0;
        LastPageMeta = false;
        CommittedLost = null;
        Node = null;
        Created = false;
        CommittedSize = 0;
        CommittedChunked = false;
        Tainted = false;
    }

    /// <summary>Records the file a handle's transaction changes, as it is before the first change.</summary>
    public void Attach(Node node, bool created)
    {
        Node = node;
        Created = created;
        CommittedSize = created ? 0 : node.Size;
        CommittedChunked = node.Chunks is not null;
    }

    /// <summary>Notes that a page of this transaction went to <paramref name="block"/>.</summary>
    public void NoteBlock(int block)
    {
        // Pages go to a head's block in order, so the last entry almost always matches.
        if (Blocks.Count == 0 || (Blocks[^1] != block && !Blocks.Contains(block)))
        {
            Blocks.Add(block);
        }
    }

    /// <summary>RAM held, for statistics.</summary>
    public long RamBytes =>
        RamSize.Object((RamSize.Reference * 5) + 4 + 4 + 8 + 4 + 2 + 1)
        + RamSize.List(20, Released.Capacity) + Own.RamBytes + RamSize.List(4, Blocks.Capacity);
}

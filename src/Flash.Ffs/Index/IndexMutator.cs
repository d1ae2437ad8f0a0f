using Flash.Ffs.Format;

namespace Flash.Ffs.Index;

/// <summary>
/// The only place entries, names and chunk maps change once a volume is mounted: each operation tells the
/// <see cref="Observer"/> about the entry first (once), then changes it. Callers read entries directly; they change
/// them only through here, so no change can slip past the checkpoint's copy-on-write.
/// </summary>
/// <remarks>
/// An operation notifies even when it turns out to change nothing (a chunk that was not mapped): notifying early is
/// harmless, missing a change corrupts a checkpoint. Building entries from a checkpoint at mount happens before any
/// observer exists and does not come through here.
/// </remarks>
internal sealed class IndexMutator
{
    /// <summary><see cref="EntryBytes"/>, or -1 until it is first asked for (recovery changes entries without this class).</summary>
    private long _entryBytes = -1;

    /// <summary>Creates a mutator over an (empty) table.</summary>
    /// <param name="nodes">The table it changes.</param>
    public IndexMutator(NodeTable nodes) => Nodes = nodes;

    /// <summary>Every entry by id.</summary>
    public NodeTable Nodes { get; }

    /// <summary>Chunks whose only copy was unreadable (they read as corrupt, not as holes); changed with the entries.</summary>
    public LostChunks Lost { get; } = new();

    /// <summary>Told before each change; null when nobody needs to know (no checkpoint in progress).</summary>
    public IIndexObserver? Observer { get; set; }

    /// <summary>RAM held by the index: this object and the table (its records, names, chunk maps and child lists).</summary>
    public long RamBytes => RamSize.Object((3 * RamSize.Reference) + 8) + Nodes.RamBytes + Lost.RamBytes;

    /// <summary>
    /// Bytes a base checkpoint's entries take for the index as it is now, lost-chunk lists left out (see
    /// <see cref="EntryBytesOf"/>): a function of the entries alone, not of which checkpoints were written. Kept up to
    /// date by every change made here; counted by one walk of the table at the first call after a mount (recovery
    /// builds the table without this class), O(1) after.
    /// </summary>
    public long EntryBytes
    {
        get
        {
            if (_entryBytes < 0)
            {
                _entryBytes = CountEntryBytes();
            }

            return _entryBytes;
        }
    }

    /// <summary>Bytes of one checkpoint entry for <paramref name="node"/> without its lost-chunk list (<see cref="CheckpointCodec.EntrySize"/>).</summary>
    /// <param name="node">The entry.</param>
    /// <returns>The size.</returns>
    public static int EntryBytesOf(Node node) => CheckpointCodec.EntrySize(node.NameUtf8.Length, node.IsInline, node.Chunks is { } m ? m.ExtentCount : -1);

    /// <summary>Walks the table for <see cref="EntryBytes"/> (also what debug builds check the running count against).</summary>
    /// <returns>The bytes.</returns>
    public long CountEntryBytes()
    {
        long bytes = 0;
        foreach (var n in Nodes.Values)
        {
            bytes += EntryBytesOf(n);
        }

        return bytes;
    }

    /// <summary>Adds a new entry to the table and lists it in its parent directory.</summary>
    /// <param name="parent">The directory.</param>
    /// <param name="node">The entry (its name is the one it is listed under).</param>
    public void Create(Node parent, Node node)
    {
        Reshaping(node);
        Nodes.Add(node);
        Track(EntryBytesOf(node));
        node.ParentId = parent.Id;
        parent.Children!.Set(node);
    }

    /// <summary>Adds an entry to the table without listing it in a directory (the root, or an entry replay meets before its inode).</summary>
    /// <param name="node">The entry.</param>
    public void AddUnlisted(Node node)
    {
        Reshaping(node);
        Nodes.Add(node);
        Track(EntryBytesOf(node));
    }

    /// <summary>Moves an entry into <paramref name="parent"/> under <paramref name="name"/>, replacing whatever is listed there.</summary>
    /// <param name="node">The entry.</param>
    /// <param name="parent">The new directory (may be the old one).</param>
    /// <param name="name">The new name.</param>
    public void Move(Node node, Node parent, string name)
    {
        Reshaping(node);
        Unlist(node);
        int before = Tracking ? node.NameUtf8.Length : 0;
        node.Name = name;
        Track(Tracking ? node.NameUtf8.Length - before : 0);
        node.ParentId = parent.Id;
        parent.Children!.Set(node);
    }

    /// <summary>Takes an entry out of its directory and the table.</summary>
    /// <param name="node">The entry.</param>
    public void Remove(Node node)
    {
        Reshaping(node);
        Unlist(node);
        int bytes = Tracking && Nodes.ContainsKey(node.Id) ? EntryBytesOf(node) : 0;
        if (Nodes.Remove(node))
        {
            Track(-bytes);
        }

        Lost.ForgetFrom(node.Id, 0);
    }

    /// <summary>Removes an entry and, for a directory, everything below it (replay of a deletion or a kind change).</summary>
    /// <param name="node">The entry.</param>
    public void RemoveTree(Node node)
    {
        if (node.Children is { } children)
        {
            foreach (var child in children.ToArray())
            {
                RemoveTree(child);
            }
        }

        Remove(node);
    }

    /// <summary>Sets a file's size in bytes.</summary>
    /// <param name="node">The file.</param>
    /// <param name="size">The size.</param>
    public void SetSize(Node node, long size)
    {
        Changing(node);
        node.Size = size;
    }

    /// <summary>Sets the sequence of an entry's last committed change.</summary>
    /// <param name="node">The entry.</param>
    /// <param name="sequence">The sequence.</param>
    public void SetModified(Node node, ulong sequence)
    {
        Changing(node);
        node.ModificationSequence = sequence;
    }

    /// <summary>Points a file at inline data in a metadata page.</summary>
    /// <param name="node">The file.</param>
    /// <param name="page">The metadata page.</param>
    /// <param name="offset">The data's offset in it.</param>
    public void SetInline(Node node, int page, int offset)
    {
        Reshaping(node);
        Track(((page >= 0 ? 1 : 0) - (node.IsInline ? 1 : 0)) * InlineBytes);
        node.InlinePage = page;
        node.InlineOffset = offset;
        Lost.ForgetFrom(node.Id, 0);
    }

    /// <summary>Forgets a file's inline data (superseded, moved into chunks, or lost).</summary>
    /// <param name="node">The file.</param>
    public void ClearInline(Node node)
    {
        Reshaping(node);
        Track(node.IsInline ? -InlineBytes : 0);
        node.InlinePage = -1;
    }

    /// <summary>Gives a file an empty chunk map (replacing any it had): its data goes to data pages from now on.</summary>
    /// <param name="node">The file.</param>
    /// <returns>The new map.</returns>
    public ChunkMap StartChunks(Node node)
    {
        Reshaping(node);
        Track(4 - MapBytes(node.Chunks));
        var map = new ChunkMap();
        node.Chunks = map;
        return map;
    }

    /// <summary>Drops a file's chunk map: its data is inline (or it is empty) from now on.</summary>
    /// <param name="node">The file.</param>
    public void DropChunks(Node node)
    {
        Reshaping(node);
        Track(-MapBytes(node.Chunks));
        node.Chunks = null;
        Lost.ForgetFrom(node.Id, 0);
    }

    /// <summary>Maps a file's chunk to a page, creating the map if the file has none.</summary>
    /// <param name="node">The file.</param>
    /// <param name="chunk">The chunk number.</param>
    /// <param name="page">The page holding it.</param>
    /// <returns>The page it replaced, or -1.</returns>
    public int SetChunk(Node node, uint chunk, int page)
    {
        if (node.Chunks is null)
        {
            Reshaping(node);
        }
        else
        {
            ChunksChanging(node, chunk, chunk + 1);
        }

        int before = MapBytes(node.Chunks);
        var map = node.Chunks ??= new ChunkMap();
        int replaced = map.Set(chunk, page);
        Track(MapBytes(map) - before);
        return replaced;
    }

    /// <summary>Unmaps one chunk of a file.</summary>
    /// <param name="node">The file (with a chunk map).</param>
    /// <param name="chunk">The chunk number.</param>
    /// <returns>The page it had, or -1.</returns>
    public int RemoveChunk(Node node, uint chunk)
    {
        ChunksChanging(node, chunk, chunk + 1);
        var map = node.Chunks!;
        int before = map.ExtentCount;
        int page = map.Remove(chunk);
        Track(ExtentBytes * (map.ExtentCount - before));
        return page;
    }

    /// <summary>Unmaps every chunk at or above <paramref name="chunkCount"/>, reporting each dropped page.</summary>
    /// <param name="node">The file (with or without a chunk map).</param>
    /// <param name="chunkCount">Chunks to keep.</param>
    /// <param name="dropped">Receives the chunks dropped and their pages; null when nobody needs them.</param>
    public void TruncateChunks(Node node, uint chunkCount, List<(uint Chunk, int Page)>? dropped)
    {
        ChunksChanging(node, chunkCount, node.Chunks is { ExtentCount: > 0 } m ? Math.Max(chunkCount, m[m.ExtentCount - 1].End) : chunkCount);
        if (node.Chunks is { } map)
        {
            int before = map.ExtentCount;
            map.Truncate(chunkCount, dropped);
            Track(ExtentBytes * (map.ExtentCount - before));
        }

        Lost.ForgetFrom(node.Id, chunkCount);
    }

    /// <summary>Unmaps every chunk of a file, keeping its (now empty) map.</summary>
    /// <param name="node">The file (with a chunk map).</param>
    public void ClearChunks(Node node)
    {
        Reshaping(node);
        Track(-ExtentBytes * node.Chunks!.ExtentCount);
        node.Chunks!.Clear();
        Lost.ForgetFrom(node.Id, 0);
    }

    /// <summary>Forgets a file's lost chunks: its whole content is being defined anew (a whole-file write).</summary>
    /// <param name="node">The file.</param>
    public void ForgetLost(Node node)
    {
        Changing(node);
        Lost.ForgetFrom(node.Id, 0);
    }

    /// <summary>Marks a chunk (0: inline data) whose only copy is unreadable as lost; the caller has unmapped it.</summary>
    /// <param name="node">The file.</param>
    /// <param name="chunk">The chunk.</param>
    public void MarkLost(Node node, uint chunk)
    {
        Changing(node);
        Lost.Add(node.Id, chunk);
    }

    /// <summary>
    /// Announces an operation of several steps that will change the entry, before its first step programs anything
    /// (a handle's write, truncation or flush; a whole-file write): the observer sees the entry now, not after pages
    /// the operation programs before its first change. Changes nothing.
    /// </summary>
    /// <remarks>
    /// Notifying at the first change instead would be as correct, but the incremental checkpoint would then write
    /// such an entry after those pages rather than before them, which reorders its body and its page sequences: the
    /// images would no longer be byte-identical with those of the earlier code.
    /// </remarks>
    /// <param name="node">The entry.</param>
    public void Announce(Node node) => Changing(node);

    /// <summary>Takes an entry out of the directory it is listed in (if it is the one listed under its name); it stays in the table.</summary>
    /// <param name="node">The entry.</param>
    public void Detach(Node node)
    {
        Reshaping(node);
        Unlist(node);
    }

    private void Changing(Node node) => Observer?.Changing(node);

    private void ChunksChanging(Node node, uint first, uint end) => Observer?.ChunksChanging(node, first, end);

    private void Reshaping(Node node) => Observer?.Reshaping(node);

    /// <summary>Bytes an entry's inline reference adds (<see cref="CheckpointCodec.EntrySize"/>).</summary>
    private const int InlineBytes = 6;

    /// <summary>Bytes one extent adds.</summary>
    private const int ExtentBytes = 12;

    /// <summary>Whether <see cref="EntryBytes"/> is being kept (asked for since the mount).</summary>
    private bool Tracking => _entryBytes >= 0;

    /// <summary>Bytes a chunk map adds to an entry: its count and extents, none without a map.</summary>
    private static int MapBytes(ChunkMap? map) => map is null ? 0 : 4 + (ExtentBytes * map.ExtentCount);

    private void Track(int delta)
    {
        if (_entryBytes >= 0)
        {
            _entryBytes += delta;
        }
    }

    private void Unlist(Node node)
    {
        if (Nodes.TryGetValue(node.ParentId, out var parent))
        {
            parent.Children?.Remove(node);
        }
    }
}

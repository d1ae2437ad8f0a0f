namespace Flash.Ffs.Index;

/// <summary>A file or directory in RAM: its place in the tree, size, and where its data lives.</summary>
internal sealed class Node
{
    public Node(uint id, uint parentId, string name, bool isDirectory)
    {
        Id = id;
        ParentId = parentId;
        Name = name;
        IsDirectory = isDirectory;
        if (isDirectory)
        {
            Children = new Dictionary<string, Node>(StringComparer.Ordinal);
        }
    }

    public uint Id { get; }

    public uint ParentId { get; set; }

    public string Name { get; set; }

    public bool IsDirectory { get; }

    public long Size { get; set; }

    public ulong ModificationSequence { get; set; }

    /// <summary>Chunk map of a file stored in data pages; null while the file is inline (or empty).</summary>
    public ChunkMap? Chunks { get; set; }

    /// <summary>Page holding a small file's data inside a metadata record, or -1.</summary>
    public int InlinePage { get; set; } = -1;

    public int InlineOffset { get; set; }

    public Dictionary<string, Node>? Children { get; }

    /// <summary>Open handles on this file.</summary>
    public int OpenHandles { get; set; }

    public bool IsInline => InlinePage >= 0;

    public long RamBytes => 96 + (Name.Length * 2) + (Chunks?.RamBytes ?? 0) + ((Children?.Count ?? 0) * 24L);
}

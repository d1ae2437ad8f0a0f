using System.Collections.Immutable;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Recovery;

/// <summary>
/// Recovery's first step: the components as a decoded <see cref="CheckpointImage"/> describes them. The codec
/// checked every field; the tree (unique ids, a root, every parent a directory, distinct names in a directory) is
/// checked here, where the index is built. Keeps nothing.
/// </summary>
internal static class CheckpointRestore
{
    /// <summary>Loads the block table: states, erase counts and first sequences as recorded.</summary>
    /// <param name="blocks">The (fresh) block table, as many blocks as the image.</param>
    /// <param name="image">The image.</param>
    public static void Blocks(BlockTable blocks, CheckpointImage image)
    {
        for (int b = 0; b < image.Blocks.Length; b++)
        {
            var recorded = image.Blocks[b];
            blocks.State.Restore(b, recorded.State);
            blocks.Erased[b] = recorded.Erased;
            blocks.EraseCount[b] = recorded.EraseCount;
            blocks.FirstSequence[b] = recorded.FirstSequence;
            blocks.LastSequence[b] = Math.Min(recorded.FirstSequence, image.Sequence);
        }
    }

    /// <summary>Builds the index from the image's entries into an empty table.</summary>
    /// <param name="nodes">The table, empty.</param>
    /// <param name="entries">The entries, in any order.</param>
    /// <param name="lost">Receives the entries' lost chunks (empty).</param>
    /// <param name="rootId">The root directory's id.</param>
    /// <returns>The root directory.</returns>
    /// <exception cref="FileSystemCorruptException">The entries do not form a tree under a root directory, or list a mapped chunk as lost.</exception>
    public static Node Index(NodeTable nodes, LostChunks lost, ImmutableArray<CheckpointEntry> entries, uint rootId)
    {
        foreach (var e in entries)
        {
            var node = NodeOf(e);
            nodes.AppendUnordered(node);
            foreach (uint chunk in e.Lost)
            {
                if (node.Chunks?.Get(chunk) >= 0)
                {
                    throw new FileSystemCorruptException($"Entry {e.Id} lists chunk {chunk} as lost and maps it to a page.");
                }

                lost.Add(e.Id, chunk);
            }
        }

        // Checkpoints list entries by id, so this is a check; older ones (hash-table order) are sorted once here.
        if (nodes.Seal() is { } duplicate)
        {
            throw new FileSystemCorruptException($"Entry {duplicate.Id} in the checkpoint is malformed or duplicated.");
        }

        if (!nodes.TryGetValue(rootId, out var root) || !root.IsDirectory)
        {
            throw new FileSystemCorruptException("The checkpoint has no root directory.");
        }

        foreach (var n in nodes.Values)
        {
            if (n.Id == rootId)
            {
                continue;
            }

            if (!nodes.TryGetValue(n.ParentId, out var parent) || !parent.IsDirectory)
            {
                throw new FileSystemCorruptException($"Entry {n.Id} ('{n.Name}') has no valid parent directory.");
            }

            parent.Children!.AppendUnordered(n);
        }

        foreach (var n in nodes.Values)
        {
            if (n.Children?.Seal() is { } clash)
            {
                throw new FileSystemCorruptException($"Entry {clash.Id} ('{clash.Name}') has no valid parent directory.");
            }
        }

        return root;
    }

    private static Node NodeOf(CheckpointEntry e)
    {
        var node = new Node(e.Id, e.Parent, Node.NormalizeName(e.Name.AsSpan()), e.IsDirectory)
        {
            Size = e.Size,
            ModificationSequence = e.ModificationSequence,
        };
        if (e.IsInline)
        {
            node.InlinePage = e.InlinePage;
            node.InlineOffset = e.InlineOffset;
        }
        else if (e.IsChunked)
        {
            node.Chunks = new ChunkMap();
            foreach (var x in e.Extents)
            {
                node.Chunks.Add(new Extent(x.Logical, x.Page, x.Count));
            }
        }

        return node;
    }
}

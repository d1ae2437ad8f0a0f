using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Wear;

namespace Flash.Ffs.Recovery;

/// <summary>Page validity and the inline-page references, rebuilt from the index (after recovery, and after a repairing check).</summary>
internal static class PageValidity
{
    /// <summary>Rebuilds page validity from the index: live pages are exactly those some entry points at.</summary>
    /// <param name="blocks">The block table whose validity bitmap is rebuilt.</param>
    /// <param name="nodes">The index.</param>
    /// <param name="inline">The inline-page references, rebuilt too.</param>
    public static void Rebuild(BlockTable blocks, NodeTable nodes, InlinePageRefs inline)
    {
        blocks.ClearAllValidity();
        inline.Clear();
        foreach (var n in nodes.Values)
        {
            if (n.Chunks is { } map)
            {
                foreach (var e in map.Extents)
                {
                    for (int k = 0; k < e.Count; k++)
                    {
                        blocks.SetValid(e.Page + k);
                    }
                }
            }

            if (n.IsInline)
            {
                inline.Add(n.InlinePage, n.Size);
            }
        }
    }
}

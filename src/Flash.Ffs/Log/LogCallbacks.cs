using Flash.Ffs.Blocks;

namespace Flash.Ffs.Log;

/// <summary>
/// What the log needs from the layers above it (a call upwards, so a narrow interface): the log appends pages and
/// owns the heads, but moving a live page means repointing whatever refers to it (the index, an open transaction's
/// pins, the inline-data counts), and what a hot block opening means for maintenance is decided above it. Implemented by
/// the facade, which wires the parts; what the checkpoint needs to hear goes to it through <see cref="ILogCheckpoint"/>.
/// </summary>
internal interface ILogHost
{
    /// <summary>Garbage collection's say over which empty blocks go back to the pool when a head opens a block.</summary>
    IReclaimPolicy ReclaimPolicy { get; }

    /// <summary>The hot head opened a block (maintenance measures how busy the volume was between its calls).</summary>
    void HotBlockOpened();

    /// <summary>A block left service (retired after a failed program, or marked bad): counted in the metrics.</summary>
    void BlockLeftService();

    /// <summary>Copies the live page <paramref name="page"/> to the cold head and points its owner at the copy.</summary>
    void MoveLivePage(int page);
}

using Flash.Ffs.Blocks;
using Flash.Ffs.Log;

namespace Flash.Ffs;

/// <summary>
/// The facade's side of the log (<see cref="PageLog"/>): what the log asks of the layers above it
/// (<see cref="ILogHost"/>), and forwarders that keep the old names for the partial files that still read the
/// log's state directly.
/// </summary>
public sealed partial class FlashFileSystem : ILogHost
{
    private Head _hot => _pageLog.Hot;

    private Head _cold => _pageLog.Cold;

    private ulong _seq
    {
        get => _pageLog.Sequence;
        set => _pageLog.Sequence = value;
    }

    private InlinePageRefs _inlineRefs => _inline;

    private void AddInlineRef(int page) => _inline.Add(page);

    private void ReleaseInline(int page) => _inline.Release(page);

    /// <inheritdoc/>
    IReclaimPolicy ILogHost.ReclaimPolicy => _gc;

    /// <inheritdoc/>
    ulong ILogHost.CheckpointSequence => _checkpointSeq;

    /// <inheritdoc/>
    void ILogHost.HotBlockOpened()
    {
        if (_hotOpensSinceMaintain < int.MaxValue)
        {
            _hotOpensSinceMaintain++;
        }
    }

    /// <inheritdoc/>
    void ILogHost.BlockClosed() => _blocksSinceCheckpoint++;

    /// <inheritdoc/>
    void ILogHost.BlockLeftService() => FfsMetrics.BadBlockRetired(this);

    /// <inheritdoc/>
    void ILogHost.MoveLivePage(int page)
    {
        FfsMetrics.GcPageMoved(this);
        _relocator.Relocate(page);
    }
}

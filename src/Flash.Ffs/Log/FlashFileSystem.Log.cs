using Flash.Ffs.Blocks;
using Flash.Ffs.Log;

namespace Flash.Ffs;

/// <summary>
/// The facade's side of the log (<see cref="PageLog"/>): what the log asks of the layers above it
/// (<see cref="ILogHost"/>).
/// </summary>
public sealed partial class FlashFileSystem : ILogHost
{
    /// <inheritdoc/>
    IReclaimPolicy ILogHost.ReclaimPolicy => _gc;

    /// <inheritdoc/>
    void ILogHost.HotBlockOpened()
    {
        if (_hotOpensSinceMaintain < int.MaxValue)
        {
            _hotOpensSinceMaintain++;
        }
    }

    /// <inheritdoc/>
    void ILogHost.BlockLeftService() => FfsMetrics.BadBlockRetired(this);

    /// <inheritdoc/>
    void ILogHost.MoveLivePage(int page)
    {
        FfsMetrics.GcPageMoved(this);
        _relocator.Relocate(page);
    }
}

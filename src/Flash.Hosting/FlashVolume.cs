using Flash.Drivers;
using Flash.Ffs;

namespace Flash.Hosting;

/// <summary>
/// A flash file system registered with <see cref="FlashServiceCollectionExtensions.AddFlashFileSystem"/>: mounted on
/// first use, unmounted (final checkpoint) and its device disposed when the container is disposed.
/// </summary>
public sealed class FlashVolume : IDisposable
{
    private readonly Lazy<FlashFileSystem> _fs;
    private IFlashDevice? _device;

    internal FlashVolume(string name, Func<IFlashDevice> device, Func<IFlashDevice, FlashFileSystem> mount)
    {
        Name = name;
        _fs = new Lazy<FlashFileSystem>(() =>
        {
            _device = device();
            return mount(_device);
        });
    }

    /// <summary>The registration name (the service key of the <see cref="FlashFileSystem"/>).</summary>
    public string Name { get; }

    /// <summary>Whether the volume was mounted (it is on first use of <see cref="FileSystem"/>).</summary>
    public bool IsCreated => _fs.IsValueCreated;

    /// <summary>The mounted file system.</summary>
    public FlashFileSystem FileSystem => _fs.Value;

    /// <inheritdoc />
    public void Dispose()
    {
        if (_fs.IsValueCreated)
        {
            _fs.Value.Dispose();
        }

        _device?.Dispose();
    }
}

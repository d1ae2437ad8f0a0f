using Flash.Drivers;
using Flash.Drivers.Mtd;
using Flash.Drivers.Simulation;

namespace Flash.Cli;

/// <summary>
/// One open target of a command: a nanddump image file (loaded into the simulator, written back atomically by
/// <see cref="Save"/>) or a Linux MTD character device (<c>/dev/mtdN</c>, changed in place).
/// </summary>
public sealed class DeviceSession : IDisposable
{
    private readonly string? _imagePath;
    private readonly FlashSimulator? _image;

    private DeviceSession(IFlashDevice device, string target, string? imagePath, FlashSimulator? image)
    {
        Device = device;
        Target = target;
        _imagePath = imagePath;
        _image = image;
    }

    /// <summary>The device the command works on.</summary>
    public IFlashDevice Device { get; }

    /// <summary>The path the user named.</summary>
    public string Target { get; }

    /// <summary>Whether the target is an MTD device rather than an image file.</summary>
    public bool IsMtd => _image is null;

    /// <summary>Whether a path names an MTD character device.</summary>
    /// <param name="target">The path.</param>
    /// <returns>True for <c>/dev/mtd*</c>.</returns>
    public static bool IsMtdPath(string target) => target.StartsWith("/dev/mtd", StringComparison.Ordinal);

    /// <summary>Opens an existing image file or MTD device.</summary>
    /// <param name="target">Image path or <c>/dev/mtdN</c>.</param>
    /// <param name="geometryForLength">The geometry of an image of a given length.</param>
    /// <param name="writable">Whether the command changes the device.</param>
    /// <returns>The session.</returns>
    public static DeviceSession Open(string target, Func<long, FlashGeometry> geometryForLength, bool writable)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(geometryForLength);
        if (IsMtdPath(target))
        {
            return new DeviceSession(MtdDevice.Open(target, new MtdDeviceOptions { ReadOnly = !writable }), target, null, null);
        }

        if (!File.Exists(target))
        {
            throw new CliException(ExitCodes.NotFound, $"The image file '{target}' does not exist (format --create makes one).");
        }

        var geometry = geometryForLength(new FileInfo(target).Length);
        var sim = FlashSimulator.LoadImage(target, new FlashSimulatorOptions { Geometry = geometry, ConcurrencyGuard = false });
        return new DeviceSession(sim, target, target, sim);
    }

    /// <summary>Creates a blank (fully erased) image of a geometry; nothing is written until <see cref="Save"/>.</summary>
    /// <param name="path">The image file to create.</param>
    /// <param name="geometry">Its geometry.</param>
    /// <returns>The session.</returns>
    public static DeviceSession CreateImage(string path, FlashGeometry geometry)
    {
        var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = geometry, ConcurrencyGuard = false });
        return new DeviceSession(sim, path, path, sim);
    }

    /// <summary>
    /// Writes an image back: to a temporary file beside it, then renamed over it, so a crash of flashctl leaves
    /// either the old or the new image. MTD devices were changed in place; nothing to do.
    /// </summary>
    public void Save()
    {
        if (_image is null || _imagePath is null)
        {
            return;
        }

        string full = Path.GetFullPath(_imagePath);
        string temp = Path.Combine(Path.GetDirectoryName(full) ?? ".", "." + Path.GetFileName(full) + ".flashctl.tmp");
        try
        {
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                _image.SaveImage(file);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
            {
                File.Delete(temp);
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => Device.Dispose();
}

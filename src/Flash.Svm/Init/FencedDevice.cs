using Flash.Drivers;

namespace Flash.Svm.Init;

/// <summary>A device SVM keeps out of service: every access is refused, so nothing can write to it.</summary>
public sealed class DeviceFencedException : FlashException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which device and why it is fenced.</param>
    public DeviceFencedException(string message) : base(message) { }
}

/// <summary>
/// Stands in for a device that init classified as foreign, of another geometry or dead, when the pair is mounted on the
/// other device alone: it has the survivor's geometry (so the pair accepts it) and refuses every access with
/// <see cref="DeviceFencedException"/> (so the pair takes it out of service and no code path can format or write the
/// real device). The real device is never touched through it.
/// </summary>
internal sealed class FencedDevice : IFlashDevice
{
    private readonly string _reason;

    /// <summary>Creates the stand-in.</summary>
    /// <param name="real">The device kept out of service.</param>
    /// <param name="geometry">The geometry the pair expects (the survivor's).</param>
    /// <param name="reason">Why it is fenced.</param>
    public FencedDevice(IFlashDevice real, FlashGeometry geometry, string reason)
    {
        Real = real;
        Geometry = geometry;
        Statistics = new FlashStatistics(geometry.BlockCount);
        _reason = reason;
    }

    /// <summary>The device kept out of service.</summary>
    public IFlashDevice Real { get; }

    /// <inheritdoc />
    public FlashGeometry Geometry { get; }

    /// <inheritdoc />
    public FlashStatistics Statistics { get; }

    /// <inheritdoc />
    public ReadResult Read(int page, Span<byte> data, Span<byte> spare) => throw Refused();

    /// <inheritdoc />
    public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare) => throw Refused();

    /// <inheritdoc />
    public void Erase(int block) => throw Refused();

    /// <inheritdoc />
    public bool IsBad(int block) => throw Refused();

    /// <inheritdoc />
    public void MarkBad(int block) => throw Refused();

    /// <summary>Nothing to release: the real device belongs to the caller.</summary>
    public void Dispose()
    {
    }

    private DeviceFencedException Refused() => new($"Device kept out of service by SVM: {_reason}");
}

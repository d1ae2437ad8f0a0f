using Flash.Drivers;
using Flash.Drivers.Simulation;

namespace Flash.Tests.Svm;

/// <summary>
/// The node's power supply for both storage devices: a node-wide cut interrupts the k-th program or erase counted over
/// both devices and takes the other device down at the same instant, as a real node losing power does.
/// </summary>
internal sealed class NodePower(FlashSimulator dev0, FlashSimulator dev1)
{
    private long _count;
    private long _cutAt = -1;

    /// <summary>Programs and erases of both devices since <see cref="CutAfter"/>.</summary>
    public long Mutations => _count;

    /// <summary>Counts mutations of both devices from now; the <paramref name="mutations"/>-th one is interrupted and both devices lose power.</summary>
    public void CutAfter(long mutations)
    {
        _count = 0;
        _cutAt = mutations;
    }

    /// <summary>Counts mutations without cutting.</summary>
    public void Count()
    {
        _count = 0;
        _cutAt = long.MaxValue;
    }

    /// <summary>Stops counting and cutting.</summary>
    public void Disarm() => _cutAt = -1;

    /// <summary>The device as the node sees it (behind this supply).</summary>
    public IFlashDevice Wrap(FlashSimulator device) => new Powered(this, device);

    private void BeforeMutation(FlashSimulator device)
    {
        if (_cutAt < 0)
        {
            return;
        }

        if (++_count == _cutAt)
        {
            _cutAt = -1;
            device.CutPowerAfter(1);
            (ReferenceEquals(device, dev0) ? dev1 : dev0).CutPower();
        }
    }

    private sealed class Powered(NodePower power, FlashSimulator inner) : IFlashDevice
    {
        public FlashGeometry Geometry => inner.Geometry;

        public FlashStatistics Statistics => inner.Statistics;

        public ReadResult Read(int page, Span<byte> data, Span<byte> spare) => inner.Read(page, data, spare);

        public void Program(int page, ReadOnlySpan<byte> data, ReadOnlySpan<byte> spare)
        {
            if (inner.IsPowered)
            {
                power.BeforeMutation(inner);
            }

            inner.Program(page, data, spare);
        }

        public void Erase(int block)
        {
            if (inner.IsPowered)
            {
                power.BeforeMutation(inner);
            }

            inner.Erase(block);
        }

        public bool IsBad(int block) => inner.IsBad(block);

        public void MarkBad(int block) => inner.MarkBad(block);

        public void Dispose()
        {
        }
    }
}

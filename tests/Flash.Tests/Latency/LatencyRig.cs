using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Tests.Ffs;

namespace Flash.Tests.Latency;

/// <summary>
/// A small NAND filled to 75 % of its user capacity with 64 KiB files, then churned with durable 4 KiB overwrites
/// (Open, Seek, Write, Flush, Close: the shape of workload W4). Latencies are simulated device time, deterministic.
/// </summary>
internal sealed class LatencyRig : IDisposable
{
    public const int Io = 4096;
    public const int FileBytes = 64 << 10;

    private readonly byte[] _buffer = new byte[Io];
    private readonly Random _rng;

    public LatencyRig(FlashFileSystemOptions? options = null, FlashGeometry? geometry = null, int seed = 11)
    {
        Device = FfsTestDevice.Create(geometry ?? FfsTestDevice.Small, seed: (ulong)seed);
        Fs = FfsTestDevice.FormatAndMount(Device, options);
        _rng = new Random(seed);
        long capacity = Fs.GetStatistics().CapacityBytes;
        Files = (int)(capacity * 3 / 4 / FileBytes);
        Versions = new int[Files][];
        for (int f = 0; f < Files; f++)
        {
            Versions[f] = new int[FileBytes / Io];
            using var file = Fs.Open(Path(f), FlashFileMode.CreateNew);
            for (int off = 0; off < FileBytes; off += Io)
            {
                Fill(f, off / Io, 0);
                file.Write(_buffer);
            }
        }
    }

    public FlashSimulator Device { get; }

    public FlashFileSystem Fs { get; }

    public int Files { get; }

    public int[][] Versions { get; }

    public long Now => Device.Statistics.SimulatedNanoseconds;

    public FlashTiming Timing => Device.Statistics.Timing;

    public static string Path(int f) => $"/r{f:D3}.bin";

    /// <summary>One random durable 4 KiB overwrite; returns its simulated device time in ns.</summary>
    public long Overwrite()
    {
        int f = _rng.Next(Files);
        int c = _rng.Next(FileBytes / Io);
        int v = ++Versions[f][c];
        Fill(f, c, v);
        long t0 = Now;
        var handle = Fs.Open(Path(f), FlashFileMode.Open);
        handle.Seek((long)c * Io, SeekOrigin.Begin);
        handle.Write(_buffer);
        handle.Flush();
        handle.Dispose();
        return Now - t0;
    }

    /// <summary>Reads every file back and compares it with the version model.</summary>
    public void Verify()
    {
        var expected = new byte[Io];
        for (int f = 0; f < Files; f++)
        {
            var data = Fs.ReadAllBytes(Path(f));
            Assert.Equal(FileBytes, data.Length);
            for (int c = 0; c < FileBytes / Io; c++)
            {
                FillInto(expected, f, c, Versions[f][c]);
                Assert.True(expected.AsSpan().SequenceEqual(data.AsSpan(c * Io, Io)), $"{Path(f)} chunk {c}: wrong data (expected version {Versions[f][c]})");
            }
        }
    }

    public void Dispose() => Device.Dispose();

    private void Fill(int f, int c, int v) => FillInto(_buffer, f, c, v);

    private static void FillInto(byte[] into, int f, int c, int v)
    {
        uint x = (uint)((f * 7919) + (c * 104729) + (v * 1299709) + 1);
        for (int i = 0; i < into.Length; i += 4)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            BitConverter.TryWriteBytes(into.AsSpan(i, 4), x);
        }
    }
}

using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Flash.Drivers;
using Flash.Drivers.Simulation;

namespace Flash.Benchmarks;

/// <summary>
/// Host-side cost of the raw RAM simulator on the reference geometry (2,048 + 64 B pages, 64 pages a block, 1,024 blocks):
/// one page program, one page read, one block erase. Steady state allocates nothing: every block is made private
/// (copy-on-write clone) in the global setup, programs go into blocks erased by the iteration setup, reads and
/// erases rotate over the device.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(SimulatorBenchmarkConfig))]
[InvocationCount(InvocationsPerIteration)]
public class SimulatorBenchmarks
{
    /// <summary>Operations per iteration: a quarter of the device's pages, so one iteration never runs out of erased pages.</summary>
    public const int InvocationsPerIteration = 16_384;

    /// <summary>Bytes one page operation moves (data + spare).</summary>
    public const int PageBytes = 2048 + 64;

    /// <summary>Bytes one block erase clears (64 pages of data + spare).</summary>
    public const int BlockBytes = 64 * PageBytes;

    private FlashSimulator _device = null!;
    private FlashGeometry _g = null!;
    private byte[] _data = null!;
    private byte[] _spare = null!;
    private int _programCursor;
    private int _programStart;
    private int _readCursor;
    private int _eraseCursor;

    /// <summary>Creates the device, makes every block private and fills it with data to read.</summary>
    [GlobalSetup]
    public void GlobalSetup()
    {
        _device = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = FlashGeometry.Nand128MiB, ConcurrencyGuard = true });
        _g = _device.Geometry;
        _data = new byte[_g.PageSize];
        _spare = new byte[_g.SpareSize];
        new Random(7).NextBytes(_data);
        Array.Fill(_spare, (byte)0xFF);
        _spare[_g.SpareFreeOffset] = 0x5A;
        for (int b = 0; b < _g.BlockCount; b++)
        {
            _device.Erase(b);
        }

        // The upper half holds programmed pages for the read benchmark.
        for (int p = _g.PageCount / 2; p < _g.PageCount; p++)
        {
            _device.Program(p, _data, _spare);
        }
    }

    /// <summary>Erases the blocks the last program iteration used, outside the measurement.</summary>
    [IterationSetup(Target = nameof(ProgramPage))]
    public void EraseProgramArea()
    {
        int half = _g.PageCount / 2;
        if (_programCursor + InvocationsPerIteration > half)
        {
            _programCursor = 0;
        }

        int first = _g.BlockOf(_programCursor);
        int last = _g.BlockOf(_programCursor + InvocationsPerIteration - 1);
        for (int b = first; b <= last; b++)
        {
            _device.Erase(b);
        }

        _programStart = _programCursor;
    }

    /// <summary>Programs the next erased page (data and spare).</summary>
    [Benchmark]
    [BytesPerOperation(PageBytes)]
    public void ProgramPage()
    {
        _device.Program(_programCursor++, _data, _spare);
        if (_programCursor - _programStart > InvocationsPerIteration)
        {
            throw new InvalidOperationException("The program benchmark ran past the pages its iteration setup erased.");
        }
    }

    /// <summary>Reads a programmed page (data and spare), rotating over half the device.</summary>
    [Benchmark]
    [BytesPerOperation(PageBytes)]
    public ReadResult ReadPage()
    {
        int half = _g.PageCount / 2;
        int page = half + _readCursor;
        _readCursor = (_readCursor + 1) % half;
        return _device.Read(page, _data, _spare);
    }

    /// <summary>Erases a block, rotating over the upper half of the device's blocks.</summary>
    [Benchmark]
    [BytesPerOperation(BlockBytes)]
    public void EraseBlock()
    {
        int half = _g.BlockCount / 2;
        _device.Erase(half + _eraseCursor);
        _eraseCursor = (_eraseCursor + 1) % half;
    }
}

/// <summary>Adds the MB/s column to the simulator benchmarks.</summary>
public sealed class SimulatorBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public SimulatorBenchmarkConfig() => AddColumn(new ThroughputColumn());
}

using System.IO.Hashing;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using Flash.Benchmarks.Workloads;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;

namespace Flash.Benchmarks;

/// <summary>Memory diagnoser, MB/s column; the job comes from the command line (default, or e.g. <c>--job dry</c>).</summary>
public sealed class FlashBenchmarkConfig : ManualConfig
{
    /// <summary>Creates the configuration.</summary>
    public FlashBenchmarkConfig()
    {
        AddColumn(new ThroughputColumn());
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}

/// <summary>CRC-32C (the checksum of every file-system page and tag) over one 2,048 B page.</summary>
[Config(typeof(FlashBenchmarkConfig))]
public class Crc32CBenchmarks
{
    private readonly byte[] _page = new byte[2048];

    /// <summary>Fills the page.</summary>
    [GlobalSetup]
    public void Setup() => Payload.Fill(_page, 1, 0, 0);

    /// <summary>CRC-32C of a page.</summary>
    /// <returns>The checksum.</returns>
    [Benchmark]
    [BytesPerOperation(2048)]
    public uint Crc32CPage() => Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, _page);
}

/// <summary>
/// Host-side cost of file-system calls on the reference device: a 4 KiB write call into an open file (the file wraps
/// to its start every 16 MiB, so steady state includes overwriting and garbage collection), a 4 KiB read call, and a
/// mount of the volume W1 leaves (32 files x 2 MiB) after a clean unmount.
/// </summary>
[Config(typeof(FlashBenchmarkConfig))]
public class FileSystemBenchmarks
{
    private const int Io = 4096;
    private const int WrapBytes = 16 << 20;

    private readonly byte[] _buffer = new byte[Io];
    private FlashSimulator _device = null!;
    private FlashFileSystem _fs = null!;
    private FlashFile _writer = null!;
    private FlashFile _reader = null!;
    private FlashSimulatorSnapshot _afterW1 = null!;

    /// <summary>Formats a device, opens a file to write and a 16 MiB file to read; prepares a W1 volume to mount.</summary>
    [GlobalSetup]
    public void Setup()
    {
        Payload.Fill(_buffer, 7, 0, 0);
        (_device, _fs) = WorkloadRunner.Fresh(FlashGeometry.Nand128MiB);
        using (var f = _fs.Open("/read.bin", FlashFileMode.CreateNew))
        {
            for (int off = 0; off < WrapBytes; off += Io)
            {
                f.Write(_buffer);
            }
        }

        _reader = _fs.OpenRead("/read.bin");
        _writer = _fs.Open("/write.bin", FlashFileMode.CreateNew);

        var (device, fs) = WorkloadRunner.Fresh(FlashGeometry.Nand128MiB);
        for (int i = 0; i < 32; i++)
        {
            using var f = fs.Open($"/f{i:D3}.bin", FlashFileMode.CreateNew);
            for (int off = 0; off < 2 << 20; off += Io)
            {
                f.Write(_buffer);
            }
        }

        fs.Unmount();
        _afterW1 = device.Snapshot();
    }

    /// <summary>Closes the handles.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        _reader.Dispose();
        _fs.Unmount();
    }

    /// <summary>One 4 KiB write call (not flushed; the file system programs pages as they fill).</summary>
    [Benchmark]
    [BytesPerOperation(Io)]
    public void Write4K()
    {
        if (_writer.Position >= WrapBytes)
        {
            _writer.Seek(0, SeekOrigin.Begin);
        }

        _writer.Write(_buffer);
    }

    /// <summary>One 4 KiB read call, rotating over a 16 MiB file.</summary>
    /// <returns>Bytes read.</returns>
    [Benchmark]
    [BytesPerOperation(Io)]
    public int Read4K()
    {
        if (_reader.Position >= WrapBytes)
        {
            _reader.Seek(0, SeekOrigin.Begin);
        }

        return _reader.Read(_buffer);
    }

    /// <summary>Mount of W1's volume after a clean unmount (on a copy-on-write branch of the device, included).</summary>
    /// <returns>The mounted volume.</returns>
    [Benchmark]
    public FlashFileSystem MountAfterW1() => FlashFileSystem.Mount(FlashSimulator.FromSnapshot(_afterW1));
}

/// <summary>
/// W1 (32 files x 2 MiB in 4 KiB calls) and W4's overwrite phase (4,096 durable random 4 KiB overwrites of 96 files x
/// 1 MiB), timed by BenchmarkDotNet on the host. Each iteration starts from a fresh device prepared in the iteration
/// setup (W4: formatted and filled), so only the workload itself is measured.
/// </summary>
[Config(typeof(FlashBenchmarkConfig))]
[InvocationCount(1)]
[WarmupCount(1)]
[IterationCount(5)]
public class WorkloadBenchmarks
{
    private readonly WorkloadScale _scale = WorkloadScale.Full(FlashGeometry.Nand128MiB);
    private WorkloadRunner _runner = null!;
    private FlashFileSystem _fs = null!;
    private int[][] _versions = null!;

    /// <summary>Creates the runner.</summary>
    [GlobalSetup]
    public void Setup() => _runner = new WorkloadRunner(FlashGeometry.Nand128MiB, _scale, new ResultsFile(), TextWriter.Null);

    /// <summary>A formatted, mounted, empty device for W1.</summary>
    [IterationSetup(Target = nameof(W1SequentialWrite))]
    public void SetupW1()
    {
        _fs = null!;
        GC.Collect();
        (_, _fs) = WorkloadRunner.Fresh(FlashGeometry.Nand128MiB);
    }

    /// <summary>W1: 32 files x 2 MiB, 4 KiB write calls, each file closed.</summary>
    [Benchmark]
    [BytesPerOperation(32L << 21)]
    public void W1SequentialWrite()
    {
        for (int f = 0; f < _scale.W1Files; f++)
        {
            _runner.WriteFile(_fs, $"/f{f:D3}.bin", f, _scale.W1FileBytes);
        }
    }

    /// <summary>A device filled as W4's fill phase leaves it.</summary>
    [IterationSetup(Target = nameof(W4RandomOverwrite))]
    public void SetupW4()
    {
        _fs = null!;
        GC.Collect();
        (_, _fs) = WorkloadRunner.Fresh(FlashGeometry.Nand128MiB);
        _versions = _runner.FillW4(_fs);
    }

    /// <summary>W4's overwrite phase: 4,096 durable 4 KiB overwrites chosen by System.Random(42).</summary>
    [Benchmark]
    [BytesPerOperation(4096L * 4096)]
    public void W4RandomOverwrite()
    {
        var rng = new Random(42);
        for (int i = 0; i < _scale.W4Overwrites; i++)
        {
            var (file, chunk) = _runner.NextOverwrite(rng);
            _runner.Overwrite(_fs, file, chunk, ++_versions[file][chunk]);
        }
    }
}

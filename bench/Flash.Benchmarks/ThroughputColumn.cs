using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Flash.Benchmarks;

/// <summary>How many bytes one invocation of a benchmark moves, for the MB/s column.</summary>
/// <param name="bytes">Bytes per operation.</param>
[AttributeUsage(AttributeTargets.Method)]
public sealed class BytesPerOperationAttribute(long bytes) : Attribute
{
    /// <summary>Bytes per operation.</summary>
    public long Bytes { get; } = bytes;
}

/// <summary>A column showing throughput in MB/s (10^6 bytes a second): bytes per operation divided by the mean time.</summary>
public sealed class ThroughputColumn : IColumn
{
    /// <inheritdoc />
    public string Id => nameof(ThroughputColumn);

    /// <inheritdoc />
    public string ColumnName => "MB/s";

    /// <inheritdoc />
    public bool AlwaysShow => true;

    /// <inheritdoc />
    public ColumnCategory Category => ColumnCategory.Custom;

    /// <inheritdoc />
    public int PriorityInCategory => 0;

    /// <inheritdoc />
    public bool IsNumeric => true;

    /// <inheritdoc />
    public UnitType UnitType => UnitType.Dimensionless;

    /// <inheritdoc />
    public string Legend => "Throughput: bytes moved per operation (data + spare) divided by the mean time, in MB/s (10^6 B/s)";

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    /// <inheritdoc />
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var bytes = benchmarkCase.Descriptor.WorkloadMethod.GetCustomAttribute<BytesPerOperationAttribute>()?.Bytes;
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (bytes is null || mean is null || mean <= 0)
        {
            return "-";
        }

        // bytes / ns = GB/s; x 1,000 = MB/s.
        return (bytes.Value / mean.Value * 1000).ToString("N1", CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public bool IsAvailable(Summary summary) => true;

    /// <inheritdoc />
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}

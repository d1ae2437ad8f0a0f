using System.Diagnostics.Metrics;

namespace Flash.Drivers.Diagnostics;

/// <summary>
/// The instruments of Flash.Drivers (meter <c>Flash.Drivers</c>), every measurement tagged with
/// <c>flash.device</c> = <see cref="FlashStatistics.DeviceName"/>. Recorded by <see cref="FlashStatistics"/>, so every
/// driver and decorator (simulator, MTD, partition, ECC) reports under its own name; a decorator and the device
/// below it both count an operation, under different names. With no listener a recording is one branch and allocates
/// nothing. docs/observability.md lists every instrument of every package.
/// </summary>
public static class DriverMetrics
{
    /// <summary>The meter name to subscribe to (OpenTelemetry: <c>AddMeter("Flash.Drivers")</c>).</summary>
    public const string MeterName = "Flash.Drivers";

    /// <summary>The tag naming the device.</summary>
    public const string DeviceTag = "flash.device";

    private static readonly Meter s_meter = new(MeterName, "1.0");

    /// <summary><c>flash.device.operations</c>: page reads, page programs and block erases, tagged <c>flash.operation</c>.</summary>
    internal static readonly Counter<long> Operations = s_meter.CreateCounter<long>("flash.device.operations", "{operation}", "Device operations issued (tag flash.operation = read, program or erase)");

    /// <summary><c>flash.device.bytes</c>: data and spare bytes moved, tagged <c>flash.direction</c> and <c>flash.area</c>.</summary>
    internal static readonly Counter<long> Bytes = s_meter.CreateCounter<long>("flash.device.bytes", "By", "Bytes moved (tags flash.direction = read or program, flash.area = data or spare)");

    /// <summary><c>flash.device.ecc.corrected_bits</c>.</summary>
    internal static readonly Counter<long> CorrectedBits = s_meter.CreateCounter<long>("flash.device.ecc.corrected_bits", "{bit}", "Bit errors the ECC corrected");

    /// <summary><c>flash.device.ecc.reads</c>: reads by ECC outcome, tagged <c>flash.ecc</c> = corrected or uncorrectable.</summary>
    internal static readonly Counter<long> EccReads = s_meter.CreateCounter<long>("flash.device.ecc.reads", "{read}", "Reads whose ECC corrected bits or failed (tag flash.ecc = corrected or uncorrectable)");

    /// <summary><c>flash.device.bad_blocks.marked</c>.</summary>
    internal static readonly Counter<long> BadBlocksMarked = s_meter.CreateCounter<long>("flash.device.bad_blocks.marked", "{block}", "Blocks marked bad at run time (grown bad blocks)");

    /// <summary><c>flash.device.time</c>: simulated (timing-model) device time of the operations.</summary>
    internal static readonly Counter<long> DeviceTime = s_meter.CreateCounter<long>("flash.device.time", "ns", "Device time of the operations under the timing model");

    internal static readonly KeyValuePair<string, object?> Read = new("flash.operation", "read");
    internal static readonly KeyValuePair<string, object?> Program = new("flash.operation", "program");
    internal static readonly KeyValuePair<string, object?> Erase = new("flash.operation", "erase");
    internal static readonly KeyValuePair<string, object?> DirectionRead = new("flash.direction", "read");
    internal static readonly KeyValuePair<string, object?> DirectionProgram = new("flash.direction", "program");
    internal static readonly KeyValuePair<string, object?> AreaData = new("flash.area", "data");
    internal static readonly KeyValuePair<string, object?> AreaSpare = new("flash.area", "spare");
    internal static readonly KeyValuePair<string, object?> Corrected = new("flash.ecc", "corrected");
    internal static readonly KeyValuePair<string, object?> Uncorrectable = new("flash.ecc", "uncorrectable");

    /// <summary>Records a read.</summary>
    internal static void RecordRead(in KeyValuePair<string, object?> device, int dataBytes, int spareBytes, ReadResult result, long nanoseconds)
    {
        if (Operations.Enabled)
        {
            Operations.Add(1, device, Read);
        }

        if (Bytes.Enabled)
        {
            Bytes.Add(dataBytes, device, DirectionRead, AreaData);
            Bytes.Add(spareBytes, device, DirectionRead, AreaSpare);
        }

        if (result.Status != EccStatus.Clean)
        {
            EccReads.Add(1, device, result.Status == EccStatus.Corrected ? Corrected : Uncorrectable);
            CorrectedBits.Add(result.CorrectedBits, device);
        }

        DeviceTime.Add(nanoseconds, device);
    }

    /// <summary>Records a program.</summary>
    internal static void RecordProgram(in KeyValuePair<string, object?> device, int dataBytes, int spareBytes, long nanoseconds)
    {
        if (Operations.Enabled)
        {
            Operations.Add(1, device, Program);
        }

        if (Bytes.Enabled)
        {
            Bytes.Add(dataBytes, device, DirectionProgram, AreaData);
            Bytes.Add(spareBytes, device, DirectionProgram, AreaSpare);
        }

        DeviceTime.Add(nanoseconds, device);
    }

    /// <summary>Records an erase.</summary>
    internal static void RecordErase(in KeyValuePair<string, object?> device, long nanoseconds)
    {
        Operations.Add(1, device, Erase);
        DeviceTime.Add(nanoseconds, device);
    }
}

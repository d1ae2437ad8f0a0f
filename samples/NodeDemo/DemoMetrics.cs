using Flash.Drivers.Diagnostics;
using Flash.Ffs.Diagnostics;
using Flash.Svm.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;

/// <summary>
/// The node program's metrics export (<c>--metrics</c>): the OpenTelemetry SDK reads the three Flash meters and
/// prints them with the console exporter. The libraries only publish instruments; exporting is the program's choice.
/// </summary>
internal static class DemoMetrics
{
    /// <summary>Starts the export when asked; null otherwise.</summary>
    public static MeterProvider? Start(bool enabled) => enabled
        ? Sdk.CreateMeterProviderBuilder()
            .AddMeter(DriverMetrics.MeterName, FfsMetrics.MeterName, SvmMetrics.MeterName)
            .AddConsoleExporter()
            .Build()
        : null;

    /// <summary>Exports what was measured and stops the export.</summary>
    public static void Stop(MeterProvider? provider) => provider?.Dispose();
}

using System.Globalization;
using Flash.Ffs;
using Microsoft.Extensions.Logging;

namespace Flash.Tests.Ffs.Blocks;

/// <summary>
/// A clean unmount is recognised at the next mount however full the volume was: the blocks the unmount's checkpoint
/// reserves (each head's next block and the next checkpoint's) stay available when writes run out of space.
/// </summary>
public sealed class CleanUnmountReserveTests
{
    /// <summary>
    /// File sizes and device sizes (blocks of 128 KiB). The 128 MiB device (1,024 blocks) holds about 280,000 small files
    /// since GC packs them, which takes minutes to fill: it runs in the exhaustive profile, and the W7F benchmark fills
    /// the same device in every run. 256 blocks hold enough files that the checkpoint spans several blocks.
    /// </summary>
    public static TheoryData<int, int> Volumes()
    {
        var volumes = new TheoryData<int, int> { { 256, 64 }, { 256, 128 }, { 256, 256 }, { 3000, 64 }, { 40_000, 64 } };
        if (Flash.Tests.PowerLoss.PowerLossProfile.Exhaustive)
        {
            volumes.Add(256, 1024);
        }

        return volumes;
    }

    [Theory]
    [MemberData(nameof(Volumes))]
    public void A_volume_filled_to_no_space_unmounts_clean(int fileBytes, int blocks)
    {
        using var device = FfsTestDevice.Create(Flash.Drivers.FlashGeometry.Nand128MiB.WithBlockCount(blocks));
        var log = new RecordingLogger();
        var options = new FlashFileSystemOptions { Logger = log };
        var fs = FfsTestDevice.FormatAndMount(device, options);
        var written = new List<(string Path, byte[] Data)>();
        void Fill()
        {
            for (int i = 0; ; i++)
            {
                if (i % 100 == 0)
                {
                    fs.CreateDirectory(Dir(i));
                }

                string path = string.Create(CultureInfo.InvariantCulture, $"{Dir(i)}/f{i}");
                var data = FfsTestDevice.Pattern(fileBytes, i);
                fs.WriteAllBytes(path, data);
                written.Add((path, data));
            }
        }

        Assert.Throws<FlashNoSpaceException>(Fill);

        Assert.NotEmpty(written);
        fs.Unmount();
        fs = FlashFileSystem.Mount(device, options);
        Assert.False(fs.MountReport.Recovered, string.Join("\n", log.Lines.TakeLast(6)));
        foreach (var (path, data) in written)
        {
            Assert.Equal(data, fs.ReadAllBytes(path));
        }

        // A mount that writes nothing leaves it clean for the next one too.
        fs.Unmount();
        fs = FlashFileSystem.Mount(device);
        Assert.False(fs.MountReport.Recovered, fs.MountReport.ToString());
        fs.Unmount();
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Lines.Add($"{eventId.Id} {formatter(state, exception)}");
    }

    private static string Dir(int i) => string.Create(CultureInfo.InvariantCulture, $"/d{i / 100}");
}

using System.Collections.Concurrent;
using Flash.Drivers;
using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Mirror;
using Flash.Svm;
using Flash.Tests.Svm;
using Microsoft.Extensions.Logging;

namespace Flash.Tests.Diagnostics;

/// <summary>An <see cref="ILoggerFactory"/> given in the options gives each component its own category.</summary>
public sealed class LoggingTests
{
    private sealed class RecordingFactory : ILoggerFactory
    {
        public ConcurrentQueue<(string Category, EventId Id)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void AddProvider(ILoggerProvider provider) { }

        public void Dispose() { }

        private sealed class Logger(RecordingFactory factory, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => factory.Entries.Enqueue((category, eventId));
        }
    }

    [Fact]
    public void A_file_system_logs_under_its_own_category_with_its_event_ids()
    {
        var factory = new RecordingFactory();
        using var sim = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = new FlashGeometry(2048, 64, 16, 32) });
        FlashFileSystem.Format(sim);
        FlashFileSystem.Mount(sim, new FlashFileSystemOptions { LoggerFactory = factory }).Unmount();
        Assert.Contains(("Flash.Ffs.FlashFileSystem", FfsEvents.Mounted), factory.Entries);
        Assert.Contains(("Flash.Ffs.FlashFileSystem", FfsEvents.Unmounted), factory.Entries);
    }

    [Fact]
    public void Svm_passes_the_factory_down_to_the_pair_and_the_file_systems()
    {
        var factory = new RecordingFactory();
        using var node = new SvmNode(o => new SvmOptions
        {
            LoggerFactory = factory,
            Packages = o.Packages,
            Sources = o.Sources,
            FactoryDefaults = o.FactoryDefaults,
            HealthTimeout = o.HealthTimeout,
        });
        node.InstallAndBoot();
        var categories = factory.Entries.Select(e => e.Category).ToHashSet();
        Assert.Contains("Flash.Svm.SoftwareVersionManager", categories);
        Assert.Contains("Flash.Ffs.Mirror.RedundantPair", categories);
        Assert.Contains("Flash.Ffs.FlashFileSystem", categories);
        Assert.Contains(factory.Entries, e => e.Category == "Flash.Svm.SoftwareVersionManager" && e.Id == SvmEvents.StorageVerified);
        Assert.Contains(factory.Entries, e => e.Category == "Flash.Ffs.Mirror.RedundantPair" && e.Id == MirrorEvents.Mounted);
    }
}

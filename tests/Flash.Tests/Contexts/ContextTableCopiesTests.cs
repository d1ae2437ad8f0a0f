using Flash.Drivers.Simulation;
using Flash.Ffs;
using Flash.Ffs.Contexts;
using Flash.Tests.Mirror;
using Microsoft.Extensions.Logging;

namespace Flash.Tests.Contexts;

/// <summary>Which table copy a commit writes and which one wins at mount.</summary>
public sealed class ContextTableCopiesTests
{
    [Fact]
    public void The_generation_parity_chooses_the_copy()
    {
        Assert.Equal(ContextLayout.TableCopy0, ContextTableCopies.PathFor(0));
        Assert.Equal(ContextLayout.TableCopy1, ContextTableCopies.PathFor(1));
        Assert.Equal(ContextLayout.TableCopy0, ContextTableCopies.PathFor(ulong.MaxValue - 1));
        Assert.Equal(ContextLayout.TableCopy1, ContextTableCopies.PathFor(ulong.MaxValue));
    }

    [Fact]
    public void The_newest_valid_copy_wins_and_a_damaged_one_is_reported()
    {
        using var dev = FlashSimulator.Create(new FlashSimulatorOptions { Geometry = PairRig.Small, Seed = 3 });
        FlashFileSystem.Format(dev);
        var fs = FlashFileSystem.Mount(dev);
        Assert.False(ContextTableCopies.HasLayout(fs));
        var first = ContextTable.Initial;
        ContextTableCopies.Initialize(fs, first);
        Assert.True(ContextTableCopies.HasLayout(fs));
        Assert.Equal(first, ContextTableCopies.ReadNewest(fs, null));

        var second = first.WithState(ContextArea.Area1, ContextState.Writing) with { Generation = 2 };
        Commit(fs, second);
        Assert.Equal(second, ContextTableCopies.ReadNewest(fs, null));
        var third = second with { Generation = 3, Sequence = 77 };
        Commit(fs, third);
        Assert.Equal(third, ContextTableCopies.ReadNewest(fs, null));

        // The newest copy is damaged: the older one wins and the damage is logged.
        var bad = third.Encode();
        bad[40] ^= 0x10;
        fs.WriteAllBytes(ContextLayout.TableCopy1, bad);
        var log = new RecordingLogger();
        Assert.Equal(second, ContextTableCopies.ReadNewest(fs, log));
        Assert.Contains(log.Events, e => e == ContextEvents.TableCopyDamaged.Id);

        // Both damaged: a specific error naming both copies, nothing written.
        fs.WriteAllBytes(ContextLayout.TableCopy0, bad.AsSpan(0, 50));
        var ex = Assert.Throws<ContextTableCorruptException>(() => ContextTableCopies.ReadNewest(fs, null));
        Assert.Contains(ContextLayout.TableCopy0, ex.Message, StringComparison.Ordinal);
        Assert.Contains(ContextLayout.TableCopy1, ex.Message, StringComparison.Ordinal);
        Assert.Equal(bad, fs.ReadAllBytes(ContextLayout.TableCopy1));
        fs.Unmount();
    }

    private static void Commit(FlashFileSystem fs, ContextTable table)
    {
        using var txn = fs.BeginTransaction();
        ContextTableCopies.Stage(txn, table);
        txn.Commit();
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<int> Events { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => Events.Add(eventId.Id);
    }
}

using Microsoft.Extensions.Logging;

namespace Flash.Tests.Ffs.Recovery;

/// <summary>A logger that keeps every entry (level, event id, message), for tests that assert what recovery reported.</summary>
internal sealed class RecordingLogger : ILogger
{
    public List<(LogLevel Level, EventId Id, string Message)> Entries { get; } = [];

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        => Entries.Add((logLevel, eventId, formatter(state, exception)));
}

using Microsoft.Extensions.Logging;

namespace Flash.Svm.Transfer.Tests.Servers;

/// <summary>Collects every formatted log line, to prove secrets never reach one.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_lines)
        {
            _lines.Add($"{eventId.Id} {formatter(state, exception)} {exception?.Message}");
        }
    }
}

/// <summary>A memory sink that runs an action once, when it has received a given number of bytes.</summary>
internal sealed class TrippingSink(long tripAt, Action trip) : IDownloadSink
{
    private readonly MemoryDownloadSink _inner = new();
    private bool _tripped;

    public MemoryDownloadSink Inner => _inner;

    public long Length => _inner.Length;

    public string? Validator => _inner.Validator;

    public void Begin(long totalLength, string? validator, bool fromZero) => _inner.Begin(totalLength, validator, fromZero);

    public void Append(ReadOnlySpan<byte> data)
    {
        _inner.Append(data);
        if (!_tripped && _inner.Length >= tripAt)
        {
            _tripped = true;
            trip();
        }
    }
}

internal static class Content
{
    public static byte[] Random(int size, int seed)
    {
        var data = new byte[size];
        new Random(seed).NextBytes(data);
        return data;
    }
}

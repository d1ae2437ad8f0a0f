using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Components;

/// <summary>
/// Shares reads between transfers: many modules booting at once fetch the same components at about the same pace,
/// so each segment of a component is read from the store below once and served to every transfer from memory while
/// it stays in a small, bounded cache (least recently used segments leave first). Segments are keyed by component
/// name and SGC digest, so content of another context never serves a request for this one. Each transfer still checks
/// the SGC digest of what it sends; a mismatch drops the component's segments before healing.
/// </summary>
public sealed class SharedComponentStore : IComponentStore
{
    private readonly IComponentStore _inner;
    private readonly int _segment;
    private readonly long _capacity;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Name, string Digest, long Index), LinkedListNode<Entry>> _map = [];
    private readonly LinkedList<Entry> _lru = new();
    private long _cached, _innerReads, _hits;

    /// <summary>Wraps a store.</summary>
    /// <param name="inner">The store that reads flash.</param>
    /// <param name="segmentSize">Bytes read from the inner store at once.</param>
    /// <param name="capacity">Most bytes kept in memory.</param>
    public SharedComponentStore(IComponentStore inner, int segmentSize = 64 * 1024, long capacity = 8L * 1024 * 1024)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentOutOfRangeException.ThrowIfLessThan(segmentSize, 512);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, segmentSize);
        _inner = inner;
        _segment = segmentSize;
        _capacity = capacity;
    }

    /// <summary>Segments read from the inner store, and reads served from memory.</summary>
    public (long InnerReads, long Hits) Counters => (Interlocked.Read(ref _innerReads), Interlocked.Read(ref _hits));

    /// <inheritdoc />
    public Task<SgcFile> SgcAsync(CancellationToken cancellationToken) => _inner.SgcAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<int> ReadAsync(SgcComponent component, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(component);
        int total = 0;
        while (total < destination.Length && offset + total < component.Size)
        {
            long at = offset + total;
            long index = at / _segment;
            var data = await SegmentAsync(component, index, cancellationToken).ConfigureAwait(false);
            int within = (int)(at - index * _segment);
            if (within >= data.Length)
            {
                break; // the stored file is shorter than the SGC says; the digest check reports it
            }

            int n = Math.Min(data.Length - within, destination.Length - total);
            data.AsSpan(within, n).CopyTo(destination.Span[total..]);
            total += n;
        }

        return total;
    }

    /// <inheritdoc />
    public Task<bool> HealAsync(SgcComponent component, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(component);
        lock (_lock)
        {
            foreach (var key in _map.Keys.Where(k => k.Name == component.Name).ToList())
            {
                Remove(key);
            }
        }

        return _inner.HealAsync(component, cancellationToken);
    }

    private async Task<byte[]> SegmentAsync(SgcComponent c, long index, CancellationToken cancellationToken)
    {
        var key = (c.Name, Convert.ToHexString(c.Sha256), index);
        Task<byte[]> task;
        lock (_lock)
        {
            if (_map.TryGetValue(key, out var node))
            {
                _lru.Remove(node);
                _lru.AddFirst(node);
                task = node.Value.Data;
                Interlocked.Increment(ref _hits);
            }
            else
            {
                long start = index * _segment;
                int length = (int)Math.Min(_segment, c.Size - start);
                task = ReadSegmentAsync(c, start, length);
                _map[key] = _lru.AddFirst(new Entry(key, task, length));
                _cached += length;
                while (_cached > _capacity && _lru.Last is { } last && !ReferenceEquals(last.Value.Data, task))
                {
                    Remove(last.Value.Key);
                }
            }
        }

        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (task.IsFaulted)
        {
            lock (_lock)
            {
                if (_map.TryGetValue(key, out var node) && ReferenceEquals(node.Value.Data, task))
                {
                    Remove(key); // a failed read is not cached: the next request tries flash again
                }
            }

            throw;
        }
    }

    private async Task<byte[]> ReadSegmentAsync(SgcComponent c, long start, int length)
    {
        Interlocked.Increment(ref _innerReads);
        var data = new byte[length];
        int got = await _inner.ReadAsync(c, start, data, CancellationToken.None).ConfigureAwait(false);
        return got == length ? data : data[..got];
    }

    private void Remove((string, string, long) key)
    {
        if (_map.Remove(key, out var node))
        {
            _lru.Remove(node);
            _cached -= node.Value.Length;
        }
    }

    private sealed record Entry((string Name, string Digest, long Index) Key, Task<byte[]> Data, int Length);
}

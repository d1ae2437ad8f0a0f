using Flash.Ffs.Mirror;
using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Components;

/// <summary>
/// Serves the current context of the node's redundant NVS pair: reads go to the primary and heal from the secondary
/// (the pair's read path). The pair is looked up on every call, because SVM replaces it when it re-mounts storage.
/// </summary>
/// <param name="pair">Returns the pair in service, e.g. <c>() =&gt; svm.Storage</c>.</param>
public sealed class PairComponentStore(Func<RedundantPair> pair) : IComponentStore
{
    private readonly Lock _lock = new();
    private (RedundantPair Pair, ulong Sequence, SgcFile Sgc)? _cached;

    /// <inheritdoc />
    public async Task<SgcFile> SgcAsync(CancellationToken cancellationToken)
    {
        var p = pair();
        ulong seq = p.Table.Sequence;
        lock (_lock)
        {
            if (_cached is { } c && ReferenceEquals(c.Pair, p) && c.Sequence == seq)
            {
                return c.Sgc;
            }
        }

        var sgc = SgcFile.Parse(await p.ReadCurrentAsync(SvmLayout.Sgc, cancellationToken).ConfigureAwait(false));
        lock (_lock)
        {
            _cached = (p, seq, sgc);
        }

        return sgc;
    }

    /// <inheritdoc />
    public Task<int> ReadAsync(SgcComponent component, long offset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(component);
        return pair().ReadCurrentRangeAsync(SvmLayout.Component(component.Name), offset, destination, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> HealAsync(SgcComponent component, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(component);
        return pair().HealCurrentAsync(SvmLayout.Component(component.Name), data => component.Matches(data.Span), cancellationToken);
    }
}

using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>How the public methods wait at the gates: each asynchronous wait and its synchronous twin run the same work.</summary>
public sealed partial class RedundantPair
{
    private async Task<T> UnderReadAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        await _gates.EnterReadAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return work();
        }
        finally
        {
            _gates.ExitRead();
        }
    }

    private T UnderRead<T>(Func<T> work, CancellationToken cancellationToken)
    {
        _gates.EnterRead(cancellationToken);
        try
        {
            return work();
        }
        finally
        {
            _gates.ExitRead();
        }
    }

    private async Task<T> UnderAlternateAsync<T>(Func<T> work, CancellationToken cancellationToken)
    {
        await _gates.EnterAlternateAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return work();
        }
        finally
        {
            _gates.ExitAlternate();
        }
    }

    private T UnderAlternate<T>(Func<T> work, CancellationToken cancellationToken)
    {
        _gates.EnterAlternate(cancellationToken);
        try
        {
            return work();
        }
        finally
        {
            _gates.ExitAlternate();
        }
    }

    /// <summary>A read of the serving device whose damaged file is returned, not thrown, so that the repair can run after the read slot is given back.</summary>
    private (T? Value, FlashDataCorruptException? Corrupt) TryServe<T>(Func<ContextStore, T> read)
    {
        try
        {
            return (_failover.Serve(read), null);
        }
        catch (FlashDataCorruptException ex)
        {
            return (default, ex);
        }
    }

    /// <summary>A read of the serving device under the alternate gate; a damaged file is repaired from the other device.</summary>
    private byte[] ServeOrHeal(Func<ContextStore, byte[]> read, string path, bool current)
    {
        var (data, corrupt) = TryServe(read);
        return corrupt is null ? data! : _healer.Heal(corrupt, path, current);
    }

    /// <summary>The store of one given device, for reads that must not fall back to the other.</summary>
    private static ContextStore StoreOf(PairMember member)
    {
        ArgumentNullException.ThrowIfNull(member);
        return member.Store ?? throw new PairDegradedException($"Device {member.DeviceId} is out of service.");
    }

    private T OnDevice<T>(Func<T> access)
    {
        using (_gates.Device())
        {
            return access();
        }
    }
}

namespace Flash.Ffs.Mirror;

/// <summary>
/// The door readers of the primary pass while a backup copy restricts it (claim 37); part of <see cref="PairGates"/>. Closed, it makes readers wait
/// with a bound and fail with <see cref="PrimaryRestrictedException"/>; open, passing costs nothing (no allocation).
/// </summary>
internal sealed class PrimaryRestriction
{
    private readonly Lock _lock = new();
    private TaskCompletionSource? _closed;
    private TimeSpan _bound;
    private ulong _transactionId;

    /// <summary>Whether the door is closed.</summary>
    public bool IsRestricted
    {
        get
        {
            lock (_lock)
            {
                return _closed is not null;
            }
        }
    }

    /// <summary>Closes the door for the backup of a transaction.</summary>
    public void Close(ulong transactionId, TimeSpan bound)
    {
        lock (_lock)
        {
            _closed ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _bound = bound;
            _transactionId = transactionId;
        }
    }

    /// <summary>Opens the door and lets every waiting reader through.</summary>
    public void Open()
    {
        TaskCompletionSource? closed;
        lock (_lock)
        {
            closed = _closed;
            _closed = null;
        }

        closed?.TrySetResult();
    }

    /// <summary>Returns at once when open; otherwise waits until it opens, at most the bound of the closing transaction.</summary>
    public Task PassAsync(CancellationToken cancellationToken)
    {
        Task wait;
        TimeSpan bound;
        ulong id;
        lock (_lock)
        {
            if (_closed is null)
            {
                return Task.CompletedTask;
            }

            wait = _closed.Task;
            bound = _bound;
            id = _transactionId;
        }

        return WaitAsync(wait, bound, id, cancellationToken);
    }

    /// <summary>The synchronous twin of <see cref="PassAsync"/>.</summary>
    public void Pass(CancellationToken cancellationToken)
    {
        Task wait;
        TimeSpan bound;
        ulong id;
        lock (_lock)
        {
            if (_closed is null)
            {
                return;
            }

            wait = _closed.Task;
            bound = _bound;
            id = _transactionId;
        }

        if (!wait.Wait(bound, cancellationToken))
        {
            throw new PrimaryRestrictedException(id, bound);
        }
    }

    private static async Task WaitAsync(Task wait, TimeSpan bound, ulong id, CancellationToken cancellationToken)
    {
        try
        {
            await wait.WaitAsync(bound, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new PrimaryRestrictedException(id, bound);
        }
    }
}

namespace Flash.Ffs.Mirror;

/// <summary>Base of the errors of the redundant pair.</summary>
public class RedundantPairException : FlashFileSystemException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public RedundantPairException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The cause.</param>
    public RedundantPairException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>The two devices have different geometries and cannot mirror each other. Nothing was written.</summary>
public sealed class DeviceGeometryMismatchException : RedundantPairException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Which geometries differ.</param>
    public DeviceGeometryMismatchException(string message) : base(message) { }
}

/// <summary>A device carries another pair's data (a different pair id). Nothing was written.</summary>
public sealed class PairMismatchException : RedundantPairException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="expected">This pair's id.</param>
    /// <param name="found">The id found on the device.</param>
    public PairMismatchException(Guid expected, Guid found)
        : base($"The device belongs to pair {found:N}, not to pair {expected:N}.")
    {
        ExpectedPairId = expected;
        FoundPairId = found;
    }

    /// <summary>This pair's id.</summary>
    public Guid ExpectedPairId { get; }

    /// <summary>The pair id found on the device.</summary>
    public Guid FoundPairId { get; }
}

/// <summary>Neither device carries a pair (both are blank or unformatted).</summary>
public sealed class PairNotFormattedException : RedundantPairException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was found.</param>
    public PairNotFormattedException(string message) : base(message) { }
}

/// <summary>No device of the pair is usable any more (both failed).</summary>
public sealed class PairUnavailableException : RedundantPairException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="inner">The last failure.</param>
    public PairUnavailableException(string message, Exception? inner = null) : base(message, inner ?? new InvalidOperationException(message)) { }
}

/// <summary>The operation needs both devices in service (for example re-designation) but the pair is degraded.</summary>
public sealed class PairDegradedException : RedundantPairException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was attempted.</param>
    public PairDegradedException(string message) : base(message) { }
}

/// <summary>
/// Cancellation was requested after the transaction had already been committed on the primary: the backup was still
/// completed so that both devices stay consistent, and the change is in effect (<see cref="Committed"/>).
/// </summary>
public sealed class MirrorTransactionCanceledException : OperationCanceledException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="transactionId">The transaction.</param>
    /// <param name="committed">Whether the change is in effect.</param>
    /// <param name="token">The token that was canceled.</param>
    public MirrorTransactionCanceledException(ulong transactionId, bool committed, CancellationToken token)
        : base($"Transaction {transactionId} was canceled {(committed ? "after it committed; the change is in effect on both devices" : "before it started")}.", token)
    {
        TransactionId = transactionId;
        Committed = committed;
    }

    /// <summary>The transaction.</summary>
    public ulong TransactionId { get; }

    /// <summary>Whether the change is in effect.</summary>
    public bool Committed { get; }
}

using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>Where a caller-held transaction of a <see cref="RedundantPair"/> stands.</summary>
public enum PairTransactionState
{
    /// <summary>Begun: operations are staged; nothing is on either device yet.</summary>
    Open = 0,

    /// <summary>The primary part committed (and the backup ran or was skipped); the transaction is in effect and waits for <see cref="PairTransaction.Complete"/>.</summary>
    PrimaryCommitted = 1,

    /// <summary>Completed: the gates were released.</summary>
    Completed = 2,

    /// <summary>Aborted before the primary part committed: neither device changed.</summary>
    Aborted = 3,

    /// <summary>The primary part committed but the backup copy could not be verified (see <see cref="BackupVerificationException"/>); the secondary is marked for resynchronisation.</summary>
    BackupFailed = 4,
}

/// <summary>
/// Checks one file of a transaction as read back from the primary, before it is written to the secondary (for
/// example against the digest an SGC file lists). Returning false fails the backup with
/// <see cref="BackupVerificationException"/> unless the primary can be healed from the transaction's own bytes.
/// </summary>
/// <param name="area">The area the file is in.</param>
/// <param name="path">Path relative to the area.</param>
/// <param name="content">The content read back from the primary (or, when healing, the bytes the transaction wrote).</param>
/// <returns>True when the content is right.</returns>
public delegate bool BackupContentCheck(ContextArea area, string path, ReadOnlySpan<byte> content);

/// <summary>Options of one caller-held transaction (<see cref="RedundantPair.BeginTransactionAsync"/>).</summary>
public sealed class PairTransactionOptions
{
    /// <summary>
    /// Restricts access to the primary while the backup is copied to the secondary (claim 37): reads of the current
    /// context (and per-device reads) wait until the backup is done, at most <see cref="RestrictedReadTimeout"/>, then
    /// fail with <see cref="PrimaryRestrictedException"/>. Default false; SVM upgrades turn it on.
    /// </summary>
    public bool RestrictPrimaryDuringBackup { get; init; }

    /// <summary>How long a read waits for a restricted primary before it fails. Default 30 s.</summary>
    public TimeSpan RestrictedReadTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Optional check of every file read back from the primary before it is copied to the secondary; the read-back is always compared with the bytes the transaction wrote.</summary>
    public BackupContentCheck? BackupCheck { get; init; }
}

/// <summary>A call does not fit the state of a caller-held transaction (for example an operation after the primary part committed, or a handle that is not the pair's open transaction). Nothing was changed.</summary>
public sealed class PairTransactionStateException : RedundantPairException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="transactionId">The transaction.</param>
    /// <param name="state">Its state.</param>
    /// <param name="message">What was attempted.</param>
    public PairTransactionStateException(ulong transactionId, PairTransactionState state, string message)
        : base($"Transaction {transactionId} is {state}: {message}")
    {
        TransactionId = transactionId;
        State = state;
    }

    /// <summary>The transaction.</summary>
    public ulong TransactionId { get; }

    /// <summary>Its state when the call was refused.</summary>
    public PairTransactionState State { get; }
}

/// <summary>
/// A file of a transaction, read back from the primary, did not verify (it differed from the bytes written or the
/// <see cref="BackupContentCheck"/> refused it) and the primary could not be healed: the backup was not written, the
/// secondary still holds the state before the transaction and is marked for resynchronisation. The primary part is
/// committed; the caller decides what to do with it (SVM invalidates the alternate).
/// </summary>
public sealed class BackupVerificationException : RedundantPairException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="transactionId">The transaction.</param>
    /// <param name="deviceId">The primary the file was read from.</param>
    /// <param name="path">Absolute file-system path of the file.</param>
    /// <param name="message">What did not verify.</param>
    public BackupVerificationException(ulong transactionId, Guid deviceId, string path, string message)
        : base($"Transaction {transactionId}: {path} on the primary {deviceId:N} does not verify ({message}); the backup was not written.")
    {
        TransactionId = transactionId;
        DeviceId = deviceId;
        Path = path;
    }

    /// <summary>The transaction.</summary>
    public ulong TransactionId { get; }

    /// <summary>The primary the file was read from.</summary>
    public Guid DeviceId { get; }

    /// <summary>Absolute file-system path of the file that did not verify.</summary>
    public string Path { get; }
}

/// <summary>A read waited longer than its bound while the primary was restricted for a backup copy (<see cref="PairTransactionOptions.RestrictPrimaryDuringBackup"/>). Nothing was read.</summary>
public sealed class PrimaryRestrictedException : RedundantPairException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="transactionId">The transaction whose backup restricts the primary.</param>
    /// <param name="waited">How long the read waited.</param>
    public PrimaryRestrictedException(ulong transactionId, TimeSpan waited)
        : base($"The primary is restricted while transaction {transactionId} is backed up; the read waited {waited.TotalMilliseconds:F0} ms and gave up.")
    {
        TransactionId = transactionId;
        Waited = waited;
    }

    /// <summary>The transaction whose backup restricts the primary.</summary>
    public ulong TransactionId { get; }

    /// <summary>How long the read waited.</summary>
    public TimeSpan Waited { get; }
}

using Microsoft.Extensions.Logging;

namespace Flash.Svm.Management;

/// <summary>Event ids of Flash.Svm.Management logs (range 5000–5099; docs/management.md).</summary>
public static class ManagementEvents
{
    /// <summary>The upgrade state changed (and was stored).</summary>
    public static readonly EventId StateChanged = new(5000, nameof(StateChanged));
    /// <summary>The upgrade state was recovered at start.</summary>
    public static readonly EventId StateRecovered = new(5001, nameof(StateRecovered));
    /// <summary>The stored upgrade state record was corrupt.</summary>
    public static readonly EventId StateRecordCorrupt = new(5002, nameof(StateRecordCorrupt));
    /// <summary>An upgrade request was refused.</summary>
    public static readonly EventId RequestRefused = new(5003, nameof(RequestRefused));
    /// <summary>The upgrade state could not be stored.</summary>
    public static readonly EventId StateStoreFailed = new(5004, nameof(StateStoreFailed));
    /// <summary>A TL1 session opened.</summary>
    public static readonly EventId SessionOpened = new(5010, nameof(SessionOpened));
    /// <summary>A TL1 session closed.</summary>
    public static readonly EventId SessionClosed = new(5011, nameof(SessionClosed));
    /// <summary>A TL1 log-in failed.</summary>
    public static readonly EventId LoginFailed = new(5012, nameof(LoginFailed));
    /// <summary>A TL1 user was locked out.</summary>
    public static readonly EventId UserLockedOut = new(5013, nameof(UserLockedOut));
    /// <summary>A TL1 command was executed.</summary>
    public static readonly EventId CommandExecuted = new(5014, nameof(CommandExecuted));
    /// <summary>A TL1 command was denied.</summary>
    public static readonly EventId CommandDenied = new(5015, nameof(CommandDenied));
    /// <summary>The TL1 listener started.</summary>
    public static readonly EventId AgentStarted = new(5016, nameof(AgentStarted));
    /// <summary>A TL1 connection failed.</summary>
    public static readonly EventId ConnectionFailed = new(5017, nameof(ConnectionFailed));
    /// <summary>The stored TL1 log-in record was corrupt and ignored.</summary>
    public static readonly EventId LoginRecordCorrupt = new(5018, nameof(LoginRecordCorrupt));
    /// <summary>The TL1 log-in record could not be stored.</summary>
    public static readonly EventId LoginRecordStoreFailed = new(5019, nameof(LoginRecordStoreFailed));
}

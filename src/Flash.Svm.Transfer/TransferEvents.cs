using Microsoft.Extensions.Logging;

namespace Flash.Svm.Transfer;

/// <summary>Event ids the transfer clients log with (3200–3219). Every message names the server by its redacted URL.</summary>
public static class TransferEvents
{
    /// <summary>A transfer attempt started (offset 0 or a resume offset).</summary>
    public static readonly EventId AttemptStarted = new(3200, nameof(AttemptStarted));
    /// <summary>The server resumed from the requested offset.</summary>
    public static readonly EventId Resumed = new(3201, nameof(Resumed));
    /// <summary>The file changed on the server or the server cannot resume: bytes held were discarded.</summary>
    public static readonly EventId RestartedFromZero = new(3202, nameof(RestartedFromZero));
    /// <summary>An attempt was interrupted; the next one resumes.</summary>
    public static readonly EventId Interrupted = new(3203, nameof(Interrupted));
    /// <summary>The whole file was received.</summary>
    public static readonly EventId Completed = new(3204, nameof(Completed));
    /// <summary>The transfer failed for good.</summary>
    public static readonly EventId Failed = new(3205, nameof(Failed));
}

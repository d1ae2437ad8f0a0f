using Microsoft.Extensions.Logging;

namespace Flash.Svm.Transfer;

/// <summary>
/// The log messages every transfer client writes (events 3200–3204, docs/observability.md), defined once for the
/// HTTP, FTP and SFTP clients so that an event keeps one level and one text whichever protocol raised it.
/// </summary>
internal static partial class TransferLog
{
    [LoggerMessage(EventId = 3200, EventName = nameof(TransferEvents.AttemptStarted), Level = LogLevel.Information, Message = "Fetching {Url} from offset {Offset}")]
    public static partial void AttemptStarted(ILogger logger, TransferUrl url, long offset);

    /// <param name="logger">Logger.</param>
    /// <param name="url">The file.</param>
    /// <param name="offset">Where the attempt resumes.</param>
    /// <param name="how">The protocol's means: <c>Range</c>, <c>REST</c>, <c>seek</c>.</param>
    [LoggerMessage(EventId = 3201, EventName = nameof(TransferEvents.Resumed), Level = LogLevel.Information, Message = "{Url} resumed at {Offset} ({How})")]
    public static partial void Resumed(ILogger logger, TransferUrl url, long offset, string how);

    [LoggerMessage(EventId = 3202, EventName = nameof(TransferEvents.RestartedFromZero), Level = LogLevel.Warning, Message = "{Url} changed on the server or cannot resume: {Discarded} held bytes discarded")]
    public static partial void RestartedFromZero(ILogger logger, TransferUrl url, long discarded);

    /// <param name="logger">Logger.</param>
    /// <param name="url">The file.</param>
    /// <param name="held">Bytes the sink holds.</param>
    /// <param name="total">The file's size, or -1 when not known yet.</param>
    [LoggerMessage(EventId = 3203, EventName = nameof(TransferEvents.Interrupted), Level = LogLevel.Warning, Message = "{Url} interrupted after {Held} of {Total} bytes")]
    public static partial void Interrupted(ILogger logger, TransferUrl url, long held, long total);

    [LoggerMessage(EventId = 3204, EventName = nameof(TransferEvents.Completed), Level = LogLevel.Information, Message = "{Url} received: {Total} bytes")]
    public static partial void Completed(ILogger logger, TransferUrl url, long total);
}

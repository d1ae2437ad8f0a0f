using Flash.Ffs.Log;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>Source-generated log messages for hot or structured events.</summary>
internal static partial class FfsLog
{
    [LoggerMessage(EventId = 1022, Level = LogLevel.Error, Message = "Data of '{Path}' at page {Page} cannot be read ({Status})")]
    public static partial void LogCorrupt(this ILogger logger, string path, int page, PageReadStatus status);
}

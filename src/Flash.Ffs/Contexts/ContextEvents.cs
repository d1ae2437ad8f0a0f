using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Contexts;

/// <summary>Event ids of the context layer's log messages.</summary>
public static class ContextEvents
{
    /// <summary>A context store was mounted.</summary>
    public static readonly EventId Mounted = new(2000, nameof(Mounted));

    /// <summary>A context table change was committed.</summary>
    public static readonly EventId TableCommitted = new(2001, nameof(TableCommitted));

    /// <summary>One copy of the context table is damaged; the other was used.</summary>
    public static readonly EventId TableCopyDamaged = new(2002, nameof(TableCopyDamaged));

    /// <summary>A write into the current context was refused.</summary>
    public static readonly EventId CurrentWriteRefused = new(2003, nameof(CurrentWriteRefused));

    /// <summary>Current and alternate were switched.</summary>
    public static readonly EventId Switched = new(2004, nameof(Switched));
}

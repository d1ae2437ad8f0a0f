namespace Flash.Ffs.Contexts;

/// <summary>One of the two context areas of a device (directories <c>/ctx0</c> and <c>/ctx1</c>).</summary>
public enum ContextArea
{
    /// <summary>The first area, <c>/ctx0</c>.</summary>
    Area0 = 0,

    /// <summary>The second area, <c>/ctx1</c>.</summary>
    Area1 = 1,
}

/// <summary>The state of a context area as recorded in the <see cref="ContextTable"/>.</summary>
public enum ContextState : byte
{
    /// <summary>The area holds no usable software set (empty, cleared or declared bad).</summary>
    Invalid = 0,

    /// <summary>The area holds a complete software set.</summary>
    Valid = 1,

    /// <summary>A software set is being written into the area; it is not complete.</summary>
    Writing = 2,

    /// <summary>The area is current on trial: it was switched to but not yet confirmed.</summary>
    Trial = 3,
}

/// <summary>Helpers for <see cref="ContextArea"/>.</summary>
public static class ContextAreaExtensions
{
    /// <summary>The other area.</summary>
    /// <param name="area">An area.</param>
    /// <returns>The area that is not <paramref name="area"/>.</returns>
    public static ContextArea Other(this ContextArea area) => area == ContextArea.Area0 ? ContextArea.Area1 : ContextArea.Area0;

    /// <summary>The absolute directory of the area on a device's file system.</summary>
    /// <param name="area">An area.</param>
    /// <returns><c>/ctx0</c> or <c>/ctx1</c>.</returns>
    public static string Directory(this ContextArea area) => area == ContextArea.Area0 ? ContextLayout.Area0Directory : ContextLayout.Area1Directory;
}

/// <summary>Where things live on a device that carries contexts, and the conventional names inside a context area.</summary>
public static class ContextLayout
{
    /// <summary>The system area: context table copies, designation record, sync marker.</summary>
    public const string SystemDirectory = "/system";

    /// <summary>Directory of <see cref="ContextArea.Area0"/>.</summary>
    public const string Area0Directory = "/ctx0";

    /// <summary>Directory of <see cref="ContextArea.Area1"/>.</summary>
    public const string Area1Directory = "/ctx1";

    /// <summary>First copy of the context table (written when the new generation is even).</summary>
    public const string TableCopy0 = "/system/table.0";

    /// <summary>Second copy of the context table (written when the new generation is odd).</summary>
    public const string TableCopy1 = "/system/table.1";

    /// <summary>Conventional directory (relative to an area) of the component files.</summary>
    public const string ComponentsDirectory = "components";

    /// <summary>Conventional directory (relative to an area) of the configuration files.</summary>
    public const string ConfigurationDirectory = "config";

    /// <summary>Conventional name (relative to an area) of the file that maps components to processor modules (software generic control).</summary>
    public const string ComponentMapFile = "sgc.map";
}

namespace Flash.Hosting;

/// <summary>How the maintenance service spends idle time (bind from configuration section <c>Flash:Maintenance</c> if you like).</summary>
public sealed class FlashMaintenanceOptions
{
    /// <summary>Pages one <c>Maintain</c> step may move; bounds how long a foreground operation can wait for it. Default 64.</summary>
    public int MaxPagesPerStep { get; set; } = 64;

    /// <summary>Pause between steps while work remains, so foreground operations get the volume. Default 10 ms.</summary>
    public TimeSpan BusyInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Pause once no volume has work left. Default 1 s.</summary>
    public TimeSpan IdleInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether the service runs at all. Default true.</summary>
    public bool Enabled { get; set; } = true;
}

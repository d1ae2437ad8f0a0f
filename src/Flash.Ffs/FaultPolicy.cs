namespace Flash.Ffs;

/// <summary>
/// The file system's one rule for when a failed operation faults the volume (docs/architecture.md, "Faults"). A
/// faulted volume refuses every further call with <see cref="FlashUnmountedException"/> until it is mounted again,
/// when recovery rebuilds RAM from flash. The rule:
/// <list type="number">
/// <item>A device failure (<see cref="Drivers.FlashException"/>: power loss, a failed program or erase that was not
/// handled, a bad block, a broken programming rule) that reaches the file system's boundary faults, whatever the
/// operation was: the device and RAM may disagree on what was written.</item>
/// <item>Any other failure of a one-transaction change (namespace operations, <see cref="FlashFileSystem.WriteAllBytes"/>,
/// a batch, a flush) faults once the change had started to change state (records written or index entries changed):
/// RAM is ahead of flash.</item>
/// <item>Anything else (bad input, no space, a missing path, a corrupt page read, cancellation) before the change
/// started leaves the volume as it was and usable.</item>
/// </list>
/// Failures the file system handles itself (a program failure that retires a block and rewrites elsewhere) never reach
/// the boundary and do not fault.
/// </summary>
internal static class FaultPolicy
{
    /// <summary>Why <paramref name="failure"/> faults the volume, or null when it does not.</summary>
    /// <param name="failure">The exception leaving the operation.</param>
    /// <param name="changeStarted">Whether the failed change had already changed state (RAM or flash).</param>
    public static string? FaultReason(Exception failure, bool changeStarted) => failure switch
    {
        Drivers.FlashException device => device.Message,
        _ when changeStarted => "a change failed after it had started writing: " + failure.Message,
        _ => null,
    };
}

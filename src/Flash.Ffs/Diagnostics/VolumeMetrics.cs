namespace Flash.Ffs.Diagnostics;

/// <summary>
/// The checkpoint's metrics of one volume (<see cref="FfsMetrics"/> keys every measurement by the volume): handed to
/// the checkpoint writer so it records what it does without knowing the facade. A struct holding one reference;
/// <c>default</c> records nothing (components tested on their own).
/// </summary>
/// <param name="volume">The volume the measurements are tagged with.</param>
internal readonly struct VolumeMetrics(FlashFileSystem? volume)
{
    /// <summary>A checkpoint committed (its anchor page is programmed).</summary>
    public void CheckpointWritten()
    {
        if (volume is not null)
        {
            FfsMetrics.CheckpointWritten(volume);
        }
    }

    /// <summary>Times a checkpoint (<c>full</c>) or an incremental step (<c>step</c>) until disposed (a struct: nothing allocated).</summary>
    /// <param name="kind">The kind of checkpoint work.</param>
    /// <returns>The running timer.</returns>
    public FfsMetrics.Timer TimeCheckpoint(string kind) => volume is null ? default : FfsMetrics.TimeCheckpoint(volume, kind);
}

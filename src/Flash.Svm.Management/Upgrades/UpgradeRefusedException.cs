namespace Flash.Svm.Management.Upgrades;

/// <summary>The upgrade state machine refused a request; nothing was changed.</summary>
public sealed class UpgradeRefusedException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why.</param>
    /// <param name="state">The state that refused it.</param>
    public UpgradeRefusedException(UpgradeRefusal reason, UpgradeState state)
        : base($"Refused ({reason}): the upgrade is {state}.")
    {
        Reason = reason;
        State = state;
    }

    /// <summary>Why the request was refused.</summary>
    public UpgradeRefusal Reason { get; }

    /// <summary>The state at the time.</summary>
    public UpgradeState State { get; }
}

/// <summary>Progress of the download of the one install in flight.</summary>
/// <param name="Source">The transfer source (no credentials).</param>
/// <param name="Progress">SVM's progress report.</param>
public sealed record UpgradeTransferProgress(string Source, UpgradeProgress Progress)
{
    /// <summary>Percent done in the current phase (0–100).</summary>
    public int Percent => Progress.TotalBytes <= 0 ? 0 : (int)Math.Clamp(Progress.Bytes * 100 / Progress.TotalBytes, 0, 100);
}

namespace Flash.Ffs.Contexts;

/// <summary>The kinds of change a <see cref="ContextStore"/> commits; each is one atomic file-system transaction.</summary>
public enum ContextOperationKind
{
    /// <summary>Write one or more files into a non-current area.</summary>
    Write = 0,

    /// <summary>Delete a file from a non-current area.</summary>
    Delete = 1,

    /// <summary>Delete everything in a non-current area and mark it invalid.</summary>
    Clear = 2,

    /// <summary>Mark the alternate area complete (valid).</summary>
    MarkComplete = 3,

    /// <summary>Swap the current and alternate areas.</summary>
    Switch = 4,

    /// <summary>Set the alternate-boot flag with a retry count.</summary>
    SetAlternateBoot = 5,

    /// <summary>Clear the alternate-boot flag.</summary>
    ClearAlternateBoot = 6,

    /// <summary>Use up one alternate-boot retry.</summary>
    ConsumeBootRetry = 7,

    /// <summary>Confirm a current area that runs on trial.</summary>
    ConfirmCurrent = 8,

    /// <summary>Mark an area invalid.</summary>
    Invalidate = 9,

    /// <summary>Write configuration files (paths under <c>config/</c>) into the current area; the table's states do not change.</summary>
    WriteConfiguration = 10,
}

/// <summary>A change of a context store, replayable on the other device of a redundant pair with the same result.</summary>
/// <remarks>A <see cref="ContextOperationKind.Write"/> with <see cref="At"/> writes its one file from that offset on
/// (<see cref="FlashTransaction.WriteAt"/>) instead of replacing it.</remarks>
internal sealed record ContextOperation(
    ContextOperationKind Kind,
    ContextArea Area = ContextArea.Area0,
    IReadOnlyList<KeyValuePair<string, byte[]>>? Files = null,
    string? Path = null,
    string? Label = null,
    int Retries = 0,
    bool Trial = false,
    long? At = null)
{
    /// <summary>A write of <paramref name="data"/> from <paramref name="offset"/> on of one file in <paramref name="area"/>.</summary>
    public static ContextOperation WriteRange(ContextArea area, string path, long offset, byte[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        return new(ContextOperationKind.Write, area, [new(path, data)], At: offset);
    }

    public override string ToString() => Kind switch
    {
        ContextOperationKind.Write when At is { } at => $"Write {Files![0].Value.Length} bytes at {at} of {Area}/{Files[0].Key}",
        ContextOperationKind.Write => $"Write {Files!.Count} file(s) to {Area}",
        ContextOperationKind.WriteConfiguration => $"Write {Files!.Count} configuration file(s) to current {Area}",
        ContextOperationKind.Delete => $"Delete {Area}/{Path}",
        ContextOperationKind.Clear or ContextOperationKind.Invalidate => $"{Kind} {Area}",
        ContextOperationKind.SetAlternateBoot => $"SetAlternateBoot retries {Retries}",
        ContextOperationKind.Switch => $"Switch{(Trial ? " (trial)" : "")}",
        _ => Kind.ToString(),
    };
}

namespace Flash.Ffs;

/// <summary>The kinds of problem <see cref="FlashFileSystem.Check(bool)"/> reports.</summary>
public enum FsckProblemKind
{
    /// <summary>A page's ECC could not correct it.</summary>
    UncorrectablePage,

    /// <summary>A record's CRC does not match its content.</summary>
    CrcMismatch,

    /// <summary>A page's tag does not name the file and chunk the index expects.</summary>
    TagMismatch,

    /// <summary>An entry's parent is missing or not a directory.</summary>
    OrphanEntry,

    /// <summary>A file maps a chunk beyond its size, or to a page outside the device.</summary>
    BadMapping,

    /// <summary>A page is mapped by two files or twice by one.</summary>
    DoubleMapping,

    /// <summary>A block's recorded state disagrees with its content (valid count, bad-block marker).</summary>
    BlockState,

    /// <summary>Two entries of one directory share a name.</summary>
    DuplicateName,

    /// <summary>A page names the right file and chunk but is older than its block's current erase cycle (an old copy written back).</summary>
    StalePage,

    /// <summary>The mount's recovery met damaged pages and left out committed changes (see <see cref="FlashFileSystem.MountReport"/>).</summary>
    DroppedChanges,
}

/// <summary>One problem found by <see cref="FlashFileSystem.Check(bool)"/>.</summary>
/// <param name="Kind">What kind of problem.</param>
/// <param name="Path">The entry concerned, when known.</param>
/// <param name="Page">The page concerned, or -1.</param>
/// <param name="Message">A readable description.</param>
/// <param name="Repaired">Whether a repair fixed it.</param>
public sealed record FsckProblem(FsckProblemKind Kind, string? Path, int Page, string Message, bool Repaired);

/// <summary>The result of a file-system check.</summary>
public sealed class FsckReport
{
    internal FsckReport(IReadOnlyList<FsckProblem> problems, int entriesChecked, long pagesChecked)
    {
        Problems = problems;
        EntriesChecked = entriesChecked;
        PagesChecked = pagesChecked;
    }

    /// <summary>Every problem found, in the order found.</summary>
    public IReadOnlyList<FsckProblem> Problems { get; }

    /// <summary>Whether nothing was wrong.</summary>
    public bool IsClean => Problems.Count == 0;

    /// <summary>Entries (files and directories) checked.</summary>
    public int EntriesChecked { get; }

    /// <summary>Pages read and verified.</summary>
    public long PagesChecked { get; }

    /// <inheritdoc />
    public override string ToString()
        => IsClean ? $"clean ({EntriesChecked} entries, {PagesChecked} pages)" : $"{Problems.Count} problem(s): " + string.Join("; ", Problems.Select(p => p.Message));
}

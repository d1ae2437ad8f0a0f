namespace Flash.Ffs;

/// <summary>A directory entry: a file or directory with its size and modification sequence.</summary>
/// <param name="Name">The entry's name (last path component).</param>
/// <param name="Path">The entry's absolute path.</param>
/// <param name="IsDirectory">Whether the entry is a directory.</param>
/// <param name="Length">File size in bytes; 0 for directories.</param>
/// <param name="ModificationSequence">A number that grows with every committed change of the entry; compares change order across the volume.</param>
public readonly record struct FlashEntry(string Name, string Path, bool IsDirectory, long Length, ulong ModificationSequence);

/// <summary>How <see cref="FlashFileSystem.Open(string, FlashFileMode)"/> opens a file.</summary>
public enum FlashFileMode
{
    /// <summary>Open an existing file; fail when it does not exist.</summary>
    Open = 0,

    /// <summary>Create a new file; fail when it exists.</summary>
    CreateNew = 1,

    /// <summary>Create a file, or truncate it to zero when it exists.</summary>
    Create = 2,

    /// <summary>Open a file, creating it when it does not exist.</summary>
    OpenOrCreate = 3,

    /// <summary>Open or create a file and position at its end.</summary>
    Append = 4,
}

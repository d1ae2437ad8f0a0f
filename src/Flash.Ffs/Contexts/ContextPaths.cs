namespace Flash.Ffs.Contexts;

/// <summary>
/// How paths relative to a context area map onto the file system, and the walk of an area's tree. Pure apart from the
/// walk, which only reads.
/// </summary>
internal static class ContextPaths
{
    /// <summary>The absolute path of <paramref name="path"/> inside <paramref name="area"/>.</summary>
    /// <param name="area">The area.</param>
    /// <param name="path">A non-empty relative path with '/' separators and no empty, "." or ".." component.</param>
    /// <returns><c>/ctxN/path</c>.</returns>
    /// <exception cref="FlashInvalidPathException">The path is absolute, empty, ends with '/' or escapes the area.</exception>
    internal static string Absolute(ContextArea area, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] == '/' || path[^1] == '/')
        {
            throw new FlashInvalidPathException(path, $"'{path}' must be a non-empty path relative to the context area.");
        }

        foreach (var part in path.Split('/'))
        {
            if (part.Length == 0 || part == "." || part == "..")
            {
                throw new FlashInvalidPathException(path, $"'{path}' contains an empty, '.' or '..' component.");
            }
        }

        return area.Directory() + "/" + path;
    }

    /// <summary>Every entry below <paramref name="directory"/>, depth first (a directory before its content).</summary>
    /// <param name="fs">The file system.</param>
    /// <param name="directory">An absolute directory.</param>
    /// <returns>The entries.</returns>
    internal static IEnumerable<FlashEntry> Walk(FlashFileSystem fs, string directory)
    {
        var stack = new Stack<string>();
        stack.Push(directory);
        while (stack.Count > 0)
        {
            string dir = stack.Pop();
            foreach (var e in fs.ListDirectory(dir))
            {
                yield return e;
                if (e.IsDirectory)
                {
                    stack.Push(e.Path);
                }
            }
        }
    }

    /// <summary>The files of an area as sorted paths relative to it.</summary>
    /// <param name="fs">The file system.</param>
    /// <param name="area">The area.</param>
    /// <returns>The relative paths, ordinal order.</returns>
    internal static List<string> ListFiles(FlashFileSystem fs, ContextArea area)
    {
        var result = new List<string>();
        string root = area.Directory();
        foreach (var e in Walk(fs, root))
        {
            if (!e.IsDirectory)
            {
                result.Add(e.Path[(root.Length + 1)..]);
            }
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }
}

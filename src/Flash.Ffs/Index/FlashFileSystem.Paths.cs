using System.Text;
using Flash.Ffs.Index;

namespace Flash.Ffs;

/// <summary>Path parsing and lookup. Paths are absolute, '/'-separated, case-sensitive; names are 1–255 UTF-8 bytes.</summary>
public sealed partial class FlashFileSystem
{
    /// <summary>The longest name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>The deepest directory nesting a path may have.</summary>
    public const int MaxDepth = 64;

    private static string[] SplitPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0 || path[0] != '/')
        {
            throw new FlashInvalidPathException(path, $"'{path}' is not an absolute path (it must start with '/').");
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > MaxDepth)
        {
            throw new FlashInvalidPathException(path, $"'{path}' is nested deeper than {MaxDepth} levels.");
        }

        foreach (var part in parts)
        {
            ValidateName(path, part);
        }

        return parts;
    }

    private static void ValidateName(string path, string name)
    {
        if (name is "." or "..")
        {
            throw new FlashInvalidPathException(path, $"'{path}': '.' and '..' are not allowed as names.");
        }

        if (name.Contains('\0') || name.Contains('\\'))
        {
            throw new FlashInvalidPathException(path, $"'{path}': names may not contain NUL or '\\'.");
        }

        if (Encoding.UTF8.GetByteCount(name) > MaxNameBytes)
        {
            throw new FlashInvalidPathException(path, $"'{path}': the name '{name[..Math.Min(16, name.Length)]}...' is longer than {MaxNameBytes} UTF-8 bytes.");
        }
    }

    private Node? TryResolve(string path)
    {
        var node = _root;
        foreach (var part in SplitPath(path))
        {
            if (node.Children is null || !node.Children.TryGetValue(part, out var next))
            {
                return null;
            }

            node = next;
        }

        return node;
    }

    private Node Resolve(string path) => TryResolve(path) ?? throw new FlashPathNotFoundException(path);

    private Node ResolveFile(string path)
    {
        var node = Resolve(path);
        return node.IsDirectory ? throw new FlashEntryKindException(path, $"'{path}' is a directory, not a file.") : node;
    }

    /// <summary>The parent directory of a path (which must exist) and the last name.</summary>
    private (Node Parent, string Name) ResolveParent(string path)
    {
        var parts = SplitPath(path);
        if (parts.Length == 0)
        {
            throw new FlashInvalidPathException(path, "The root directory cannot be created, replaced or removed.");
        }

        var node = _root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (node.Children is null || !node.Children.TryGetValue(parts[i], out var next))
            {
                throw new FlashPathNotFoundException("/" + string.Join('/', parts[..(i + 1)]));
            }

            node = next;
        }

        if (!node.IsDirectory)
        {
            throw new FlashEntryKindException(path, $"A parent of '{path}' is a file, not a directory.");
        }

        return (node, parts[^1]);
    }

    private string PathOf(Node node) => _nodes.PathOf(node);

    private FlashEntry EntryOf(Node node) => new(node.Name, PathOf(node), node.IsDirectory, node.Size, node.ModificationSequence);

}

using System.Text;
using Flash.Ffs;

namespace Flash.Tests.Ffs;

/// <summary>
/// A deliberately simple in-memory reference of the file system's namespace and file contents, with the same
/// validation rules (and exception types) as <see cref="FlashFileSystem"/>. Operations throw
/// <see cref="ModelError"/> carrying the exception type the real file system is expected to throw.
/// </summary>
internal sealed class FfsModel
{
    public sealed class Node
    {
        public Node(bool isDirectory) => IsDirectory = isDirectory;

        public bool IsDirectory { get; }

        public SortedDictionary<string, Node> Children { get; } = new(StringComparer.Ordinal);

        public byte[] Data { get; set; } = [];

        public Node Clone()
        {
            var n = new Node(IsDirectory) { Data = Data };
            foreach (var (name, child) in Children)
            {
                n.Children[name] = child.Clone();
            }

            return n;
        }
    }

    public sealed class ModelError(Type expected, string why) : Exception($"{expected.Name}: {why}")
    {
        public Type Expected { get; } = expected;
    }

    public Node Root { get; private set; } = new(isDirectory: true);

    public FfsModel Clone() => new() { Root = Root.Clone() };

    public void ReplaceWith(FfsModel other) => Root = other.Root;

    private static ModelError Err<T>(string why) => new(typeof(T), why);

    public static string[] Split(string path)
    {
        if (path.Length == 0 || path[0] != '/')
        {
            throw Err<FlashInvalidPathException>("not absolute");
        }

        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > FlashFileSystem.MaxDepth)
        {
            throw Err<FlashInvalidPathException>("too deep");
        }

        foreach (var p in parts)
        {
            if (p is "." or ".." || p.Contains('\0') || p.Contains('\\') || Encoding.UTF8.GetByteCount(p) > FlashFileSystem.MaxNameBytes)
            {
                throw Err<FlashInvalidPathException>("bad name");
            }
        }

        return parts;
    }

    public static string Normalize(string path) => "/" + string.Join('/', Split(path));

    public Node? TryResolve(string path)
    {
        var node = Root;
        foreach (var part in Split(path))
        {
            if (!node.IsDirectory || !node.Children.TryGetValue(part, out var next))
            {
                return null;
            }

            node = next;
        }

        return node;
    }

    public Node Resolve(string path) => TryResolve(path) ?? throw Err<FlashPathNotFoundException>(path);

    public (Node Parent, string Name) ResolveParent(string path)
    {
        var parts = Split(path);
        if (parts.Length == 0)
        {
            throw Err<FlashInvalidPathException>("root");
        }

        var node = Root;
        for (int i = 0; i < parts.Length - 1; i++)
        {
            if (!node.IsDirectory || !node.Children.TryGetValue(parts[i], out var next))
            {
                throw Err<FlashPathNotFoundException>("parent of " + path);
            }

            node = next;
        }

        if (!node.IsDirectory)
        {
            throw Err<FlashEntryKindException>("parent is a file");
        }

        return (node, parts[^1]);
    }

    public void CreateDirectory(string path)
    {
        var (parent, name) = ResolveParent(path);
        if (parent.Children.ContainsKey(name))
        {
            throw Err<FlashPathExistsException>(path);
        }

        parent.Children[name] = new Node(isDirectory: true);
    }

    public void Delete(string path, bool directory)
    {
        var node = Resolve(path);
        if (node == Root)
        {
            throw Err<FlashInvalidPathException>("root");
        }

        if (node.IsDirectory != directory)
        {
            throw Err<FlashEntryKindException>("kind");
        }

        if (directory && node.Children.Count > 0)
        {
            throw Err<FlashEntryKindException>("not empty");
        }

        var (parent, name) = ResolveParent(path);
        parent.Children.Remove(name);
    }

    public void WriteAllBytes(string path, byte[] data)
    {
        var (parent, name) = ResolveParent(path);
        if (parent.Children.TryGetValue(name, out var existing) && existing.IsDirectory)
        {
            throw Err<FlashEntryKindException>("is a directory");
        }

        parent.Children[name] = new Node(isDirectory: false) { Data = data };
    }

    public byte[] ReadAllBytes(string path)
    {
        var node = Resolve(path);
        return node.IsDirectory ? throw Err<FlashEntryKindException>("is a directory") : node.Data;
    }

    public IReadOnlyList<(string Name, bool IsDirectory, long Length)> List(string path)
    {
        var node = Resolve(path);
        if (!node.IsDirectory)
        {
            throw Err<FlashEntryKindException>("is a file");
        }

        return node.Children.Select(kv => (kv.Key, kv.Value.IsDirectory, kv.Value.IsDirectory ? 0L : kv.Value.Data.Length)).ToArray();
    }

    public void Rename(string source, string destination, bool replace)
    {
        var node = Resolve(source);
        if (node == Root)
        {
            throw Err<FlashInvalidPathException>("root");
        }

        var (parent, name) = ResolveParent(destination);
        if (IsSelfOrDescendant(node, parent))
        {
            throw Err<FlashInvalidPathException>("into itself");
        }

        if (parent.Children.TryGetValue(name, out var existing))
        {
            if (existing == node)
            {
                return;
            }

            if (!replace)
            {
                throw Err<FlashPathExistsException>(destination);
            }

            if (existing.IsDirectory != node.IsDirectory)
            {
                throw Err<FlashEntryKindException>("kind");
            }

            if (existing.IsDirectory && existing.Children.Count > 0)
            {
                throw Err<FlashEntryKindException>("not empty");
            }
        }

        var (srcParent, srcName) = ResolveParent(source);
        srcParent.Children.Remove(srcName);
        parent.Children[name] = node;
    }

    /// <summary>The rules of a rename inside a transaction: files only.</summary>
    public void RenameInTransaction(string source, string destination, bool replace)
    {
        if (Split(source).Length == 0)
        {
            throw Err<FlashInvalidPathException>("root");
        }

        Split(destination);
        var node = TryResolve(source);
        if (node is null)
        {
            throw Err<FlashPathNotFoundException>(source);
        }

        if (node.IsDirectory)
        {
            throw Err<FlashEntryKindException>("directories cannot be renamed in a transaction");
        }

        var (parent, name) = ResolveParent(destination);
        if (parent.Children.TryGetValue(name, out var existing))
        {
            if (existing.IsDirectory)
            {
                throw Err<FlashEntryKindException>("destination is a directory");
            }

            if (existing == node)
            {
                return;
            }

            if (!replace)
            {
                throw Err<FlashPathExistsException>(destination);
            }
        }

        var (srcParent, srcName) = ResolveParent(source);
        srcParent.Children.Remove(srcName);
        parent.Children[name] = node;
    }

    /// <summary>Opens a file as <see cref="FlashFileSystem.Open(string, FlashFileMode)"/> would; returns the file node.</summary>
    public Node Open(string path, FlashFileMode mode)
    {
        var node = TryResolve(path);
        bool create = node is null && mode != FlashFileMode.Open;
        if (node is null && !create)
        {
            throw Err<FlashPathNotFoundException>(path);
        }

        if (node is not null && mode == FlashFileMode.CreateNew)
        {
            throw Err<FlashPathExistsException>(path);
        }

        if (node is { IsDirectory: true })
        {
            throw Err<FlashEntryKindException>("is a directory");
        }

        if (create)
        {
            var (parent, name) = ResolveParent(path);
            node = new Node(isDirectory: false);
            parent.Children[name] = node;
        }
        else if (mode == FlashFileMode.Create)
        {
            node!.Data = [];
        }

        return node!;
    }

    public static byte[] WriteAt(byte[] data, long position, byte[] source)
    {
        long end = Math.Max(data.Length, position + source.Length);
        var result = new byte[end];
        data.CopyTo(result, 0);
        source.CopyTo(result, position);
        return result;
    }

    public static byte[] SetLength(byte[] data, long length)
    {
        var result = new byte[length];
        data.AsSpan(0, (int)Math.Min(length, data.Length)).CopyTo(result);
        return result;
    }

    /// <summary>Every path with its node, depth first.</summary>
    public IEnumerable<(string Path, Node Node)> Walk()
    {
        var stack = new Stack<(string, Node)>();
        stack.Push(("/", Root));
        while (stack.Count > 0)
        {
            var (path, node) = stack.Pop();
            yield return (path, node);
            foreach (var (name, child) in node.Children)
            {
                stack.Push((path == "/" ? "/" + name : path + "/" + name, child));
            }
        }
    }

    private static bool IsSelfOrDescendant(Node ancestor, Node node)
    {
        if (ancestor == node)
        {
            return true;
        }

        foreach (var child in ancestor.Children.Values)
        {
            if (child.IsDirectory && IsSelfOrDescendant(child, node))
            {
                return true;
            }
        }

        return false;
    }
}

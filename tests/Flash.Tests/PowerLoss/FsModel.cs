using Flash.Ffs;

namespace Flash.Tests.PowerLoss;

/// <summary>
/// What the volume must hold: every directory (value null) and file (its content) by absolute path, root excluded.
/// </summary>
internal sealed class FsModel
{
    private readonly SortedDictionary<string, byte[]?> _entries;

    public FsModel() => _entries = new(StringComparer.Ordinal);

    private FsModel(SortedDictionary<string, byte[]?> entries) => _entries = new(entries, StringComparer.Ordinal);

    public IReadOnlyDictionary<string, byte[]?> Entries => _entries;

    public FsModel Clone() => new(_entries);

    /// <summary>Makes this model a copy of <paramref name="other"/> (for workloads whose expected state is recorded).</summary>
    public void ReplaceWith(FsModel other)
    {
        _entries.Clear();
        foreach (var (path, content) in other._entries)
        {
            _entries[path] = content;
        }
    }

    public bool IsFile(string path) => _entries.TryGetValue(path, out var v) && v is not null;

    public bool IsDirectory(string path) => path == "/" || (_entries.TryGetValue(path, out var v) && v is null);

    public bool Exists(string path) => path == "/" || _entries.ContainsKey(path);

    public byte[] Content(string path) => _entries[path] ?? throw new InvalidOperationException(path + " is a directory");

    public IEnumerable<string> Files => _entries.Where(e => e.Value is not null).Select(e => e.Key);

    public IEnumerable<string> Directories => _entries.Where(e => e.Value is null).Select(e => e.Key);

    public bool IsEmptyDirectory(string path) => IsDirectory(path) && !_entries.Keys.Any(k => k.StartsWith(Prefix(path), StringComparison.Ordinal));

    public void Write(string path, byte[] data) => _entries[path] = data;

    public void Mkdir(string path) => _entries[path] = null;

    public void Remove(string path)
    {
        _entries.Remove(path);
        foreach (var k in _entries.Keys.Where(k => k.StartsWith(path + "/", StringComparison.Ordinal)).ToArray())
        {
            _entries.Remove(k);
        }
    }

    public void Rename(string source, string destination)
    {
        var moved = _entries.Where(e => e.Key == source || e.Key.StartsWith(source + "/", StringComparison.Ordinal)).ToArray();
        Remove(destination);
        foreach (var (k, _) in moved)
        {
            _entries.Remove(k);
        }

        foreach (var (k, v) in moved)
        {
            _entries[destination + k[source.Length..]] = v;
        }
    }

    private static string Prefix(string dir) => dir == "/" ? "/" : dir + "/";

    /// <summary>Reads the whole tree of a mounted volume, skipping the given paths (probe files of the checker).</summary>
    public static FsModel Read(FlashFileSystem fs, IReadOnlySet<string>? skip = null)
    {
        var model = new FsModel();
        var stack = new Stack<string>();
        stack.Push("/");
        while (stack.Count > 0)
        {
            string dir = stack.Pop();
            foreach (var e in fs.ListDirectory(dir))
            {
                if (skip?.Contains(e.Path) == true)
                {
                    continue;
                }

                if (e.IsDirectory)
                {
                    model._entries[e.Path] = null;
                    stack.Push(e.Path);
                }
                else
                {
                    var data = fs.ReadAllBytes(e.Path);
                    if (data.Length != e.Length)
                    {
                        throw new InvalidOperationException($"{e.Path}: entry length {e.Length} but {data.Length} bytes read");
                    }

                    model._entries[e.Path] = data;
                }
            }
        }

        return model;
    }

    public bool SameAs(FsModel other) => Diff(other) is null;

    /// <summary>The first difference from another model, or null when equal.</summary>
    public string? Diff(FsModel other)
    {
        foreach (var (k, v) in _entries)
        {
            if (!other._entries.TryGetValue(k, out var w))
            {
                return $"{k} missing";
            }

            if (v is null != w is null)
            {
                return $"{k} is a {(w is null ? "directory" : "file")}, expected a {(v is null ? "directory" : "file")}";
            }

            if (v is not null && !v.AsSpan().SequenceEqual(w))
            {
                int at = 0;
                while (at < Math.Min(v.Length, w!.Length) && v[at] == w[at])
                {
                    at++;
                }

                return $"{k} has {w!.Length} bytes differing from the expected {v.Length} at offset {at}";
            }
        }

        foreach (var k in other._entries.Keys)
        {
            if (!_entries.ContainsKey(k))
            {
                return $"{k} is unexpected";
            }
        }

        return null;
    }

    public override string ToString() => string.Join(", ", _entries.Select(e => e.Value is null ? e.Key + "/" : $"{e.Key}({e.Value.Length})"));
}

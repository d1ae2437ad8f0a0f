using System.Text;
using System.Text.Unicode;

namespace Flash.Ffs.Index;

/// <summary>A file or directory: its place in the tree, size, and where its data lives.</summary>
/// <remarks>
/// A view, not the storage: once added to a <see cref="NodeTable"/> a node reads and writes its record there (28
/// bytes, the name in the page's name bytes), so the volume keeps no object per entry. Before it is added, and after
/// it is removed, a node holds its own copy. Two views of the same entry of a table are equal (<c>==</c>); a detached
/// node is equal only to itself.
/// </remarks>
internal sealed class Node : IEquatable<Node>
{
    /// <summary>Bytes of a view of a table's entry: 16 of header, two references and the id.</summary>
    public const int ViewBytes = 40;

    private NodeTable? _table;
    private Detached? _own;

    public Node(uint id, uint parentId, string name, bool isDirectory)
        : this(id, parentId, isDirectory)
    {
        Name = name;
    }

    public Node(uint id, uint parentId, ReadOnlySpan<byte> utf8Name, bool isDirectory)
        : this(id, parentId, isDirectory)
    {
        SetName(utf8Name);
    }

    /// <summary>A view of an entry of a table.</summary>
    internal Node(NodeTable table, uint id)
    {
        _table = table;
        Id = id;
    }

    private Node(uint id, uint parentId, bool isDirectory)
    {
        Id = id;
        _own = new Detached
        {
            Record = new NodeRecord { ParentId = parentId, InlinePage = -1, Flags = isDirectory ? NodeRecord.DirectoryFlag : (byte)0 },
            Ext = isDirectory ? new ChildList() : null,
        };
    }

    public uint Id { get; }

    public uint ParentId
    {
        get => Rec.ParentId;
        set => Rec.ParentId = value;
    }

    /// <summary>The name as stored on flash (UTF-8).</summary>
    public ReadOnlySpan<byte> NameUtf8 => _table is { } t ? t.NameOf(Id) : _own!.Name;

    /// <summary>The name (decoded from UTF-8 on every call: for paths, listings and messages).</summary>
    public string Name
    {
        get => Encoding.UTF8.GetString(NameUtf8);
        set
        {
            int length = Encoding.UTF8.GetByteCount(value);
            Span<byte> utf8 = length <= 256 ? stackalloc byte[256] : new byte[length];
            SetName(utf8[..Encoding.UTF8.GetBytes(value, utf8)]);
        }
    }

    public bool IsDirectory => Rec.IsDirectory;

    public long Size
    {
        get => _table is { } t ? t.SizeOf(Id) : _own!.Size;
        set
        {
            if (_table is { } t)
            {
                t.SetSize(Id, value);
            }
            else
            {
                _own!.Size = value;
            }
        }
    }

    public ulong ModificationSequence
    {
        get => Rec.Sequence;
        set => Rec.Sequence = value;
    }

    /// <summary>Chunk map of a file stored in data pages; null while the file is inline (or empty), and for directories.</summary>
    public ChunkMap? Chunks
    {
        get => Ext as ChunkMap;
        set
        {
            if (IsDirectory)
            {
                if (value is not null)
                {
                    throw new InvalidOperationException("A directory has no chunk map.");
                }

                return;
            }

            if (_table is { } t)
            {
                t.SetExt(Id, value);
            }
            else
            {
                _own!.Ext = value;
            }
        }
    }

    /// <summary>Page holding a small file's data inside a metadata record, or -1.</summary>
    public int InlinePage
    {
        get => Rec.InlinePage;
        set => Rec.InlinePage = value;
    }

    /// <summary>Offset of the inline data in its page (a page is at most 64 KiB, as the checkpoint's 16-bit field says).</summary>
    public int InlineOffset
    {
        get => Rec.InlineOffset;
        set => Rec.InlineOffset = checked((ushort)value);
    }

    /// <summary>A directory's entries, sorted by name; null for files.</summary>
    public ChildList? Children => Ext as ChildList;

    public bool IsInline => InlinePage >= 0;

    private ref NodeRecord Rec => ref _table is { } t ? ref t.Record(Id) : ref _own!.Record;

    private object? Ext => _table is { } t ? t.ExtOf(Id) : _own!.Ext;

    public static bool operator ==(Node? a, Node? b) => ReferenceEquals(a, b) || (a is not null && a.Equals(b));

    public static bool operator !=(Node? a, Node? b) => !(a == b);

    /// <summary>Renames the node (it must not be listed in a directory meanwhile: the list is sorted by name).</summary>
    /// <param name="utf8">The new name, at most 255 UTF-8 bytes.</param>
    public void SetName(ReadOnlySpan<byte> utf8)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(utf8.Length, byte.MaxValue, nameof(utf8));
        if (_table is { } t)
        {
            t.Rename(Id, utf8);
        }
        else
        {
            _own!.Name = utf8.ToArray();
        }
    }

    /// <summary>A name read from flash as it is kept in RAM: valid UTF-8 as is, anything else as its decoded-and-encoded form.</summary>
    /// <param name="utf8">The stored bytes.</param>
    /// <returns>The name's bytes (a new array only for invalid UTF-8).</returns>
    public static ReadOnlySpan<byte> NormalizeName(ReadOnlySpan<byte> utf8)
        => Utf8.IsValid(utf8) ? utf8 : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(utf8));

    /// <inheritdoc/>
    public bool Equals(Node? other) => other is not null && (ReferenceEquals(this, other) || (_table is not null && _table == other._table && Id == other.Id));

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Node);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)Id;

    /// <summary>Whether this is a view of an entry of <paramref name="table"/>.</summary>
    internal bool IsViewOf(NodeTable table) => _table == table;

    /// <summary>Becomes a view of its entry in <paramref name="table"/> (just added there with this node's data).</summary>
    internal void Attach(NodeTable table)
    {
        _table = table;
        _own = null;
    }

    /// <summary>Takes a copy of its entry, which is about to leave the table.</summary>
    internal void Detach()
    {
        var t = _table!;
        _own = new Detached { Record = t.Record(Id), Name = t.NameOf(Id).ToArray(), Ext = t.ExtOf(Id), Size = t.SizeOf(Id) };
        _table = null;
    }

    /// <summary>A node's own data while it is in no table.</summary>
    private sealed class Detached
    {
        public NodeRecord Record;

        public byte[] Name { get; set; } = [];

        public object? Ext { get; set; }

        public long Size { get; set; }
    }
}

using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace Flash.Ffs.Index;

/// <summary>A file or directory in RAM: its place in the tree, size, and where its data lives.</summary>
/// <remarks>
/// A volume holds one per entry, so it is kept to 72 bytes on a 64-bit runtime (16 of header, 56 of fields): the name
/// is kept as UTF-8, as on flash, inside the node when it fits in <see cref="InlineNameBytes"/> bytes; one reference
/// holds a file's chunk map or a directory's children (and, for a longer name, the array holding it); open handles
/// are counted by the file system's handle list, not here.
/// </remarks>
internal sealed class Node
{
    /// <summary>The longest UTF-8 name kept inside the node; a longer one takes an array (and a small holder object).</summary>
    public const int InlineNameBytes = 16;

    /// <summary>Bytes of a node object: 16 of header and 56 of fields.</summary>
    public const int ObjectBytes = 72;

    // A file's ChunkMap, a directory's ChildList, a LongName holding one of those (or null) for names over
    // InlineNameBytes, or null.
    private object? _ext;
    private ushort _inlineOffset;
    private byte _nameLength;
    private NameBytes _name;

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

    private Node(uint id, uint parentId, bool isDirectory)
    {
        Id = id;
        ParentId = parentId;
        IsDirectory = isDirectory;
        if (isDirectory)
        {
            _ext = new ChildList();
        }
    }

    public uint Id { get; }

    public uint ParentId { get; set; }

    /// <summary>The name as stored on flash (UTF-8).</summary>
    public ReadOnlySpan<byte> NameUtf8 => _ext is LongName l ? l.Name : ((ReadOnlySpan<byte>)_name)[.._nameLength];

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

    public bool IsDirectory { get; }

    public long Size { get; set; }

    public ulong ModificationSequence { get; set; }

    /// <summary>Chunk map of a file stored in data pages; null while the file is inline (or empty), and for directories.</summary>
    public ChunkMap? Chunks
    {
        get => (_ext is LongName l ? l.Target : _ext) as ChunkMap;
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

            if (_ext is LongName l)
            {
                l.Target = value;
            }
            else
            {
                _ext = value;
            }
        }
    }

    /// <summary>Page holding a small file's data inside a metadata record, or -1.</summary>
    public int InlinePage { get; set; } = -1;

    /// <summary>Offset of the inline data in its page (a page is at most 64 KiB, as the checkpoint's 16-bit field says).</summary>
    public int InlineOffset
    {
        get => _inlineOffset;
        set => _inlineOffset = checked((ushort)value);
    }

    /// <summary>A directory's entries, sorted by name; null for files.</summary>
    public ChildList? Children => (_ext is LongName l ? l.Target : _ext) as ChildList;

    public bool IsInline => InlinePage >= 0;

    /// <summary>RAM held by the node: the object, a long name, and its chunk map or child list (not the children themselves).</summary>
    public long RamBytes
    {
        get
        {
            long bytes = ObjectBytes;
            object? target = _ext;
            if (target is LongName l)
            {
                bytes += LongName.ObjectBytes + RamSize.Array(1, l.Name.Length);
                target = l.Target;
            }

            return bytes + target switch
            {
                ChunkMap m => m.RamBytes,
                ChildList c => c.RamBytes,
                _ => 0,
            };
        }
    }

    /// <summary>Renames the node (it must not be listed in a directory meanwhile: the list is sorted by name).</summary>
    /// <param name="utf8">The new name, at most 255 UTF-8 bytes.</param>
    public void SetName(ReadOnlySpan<byte> utf8)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(utf8.Length, byte.MaxValue, nameof(utf8));
        object? target = _ext is LongName old ? old.Target : _ext;
        if (utf8.Length <= InlineNameBytes)
        {
            utf8.CopyTo(_name);
            _ext = target;
        }
        else if (_ext is LongName l)
        {
            l.Name = utf8.ToArray();
        }
        else
        {
            _ext = new LongName(utf8.ToArray(), target);
        }

        _nameLength = (byte)utf8.Length;
    }

    /// <summary>A name read from flash as it is kept in RAM: valid UTF-8 as is, anything else as its decoded-and-encoded form.</summary>
    /// <param name="utf8">The stored bytes.</param>
    /// <returns>The name's bytes (a new array only for invalid UTF-8).</returns>
    public static ReadOnlySpan<byte> NormalizeName(ReadOnlySpan<byte> utf8)
        => Utf8.IsValid(utf8) ? utf8 : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(utf8));

    [InlineArray(InlineNameBytes)]
    private struct NameBytes
    {
        private byte _first;
    }

    /// <summary>A name longer than <see cref="InlineNameBytes"/>, and the reference it displaces.</summary>
    private sealed class LongName(byte[] name, object? target)
    {
        public const int ObjectBytes = 32;

        public byte[] Name { get; set; } = name;

        public object? Target { get; set; } = target;
    }
}

using System.Runtime.InteropServices;

namespace Flash.Ffs.Index;

/// <summary>
/// One entry as <see cref="NodeTable"/> stores it: 28 bytes, 4-aligned (the sequence is split in two halves so that
/// no field forces 8-byte alignment and padding). The id is the record's place in its page, the name lives in the
/// page's name bytes, and a size that does not fit 32 bits lives in the table's overflow map.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 4)]
internal struct NodeRecord
{
    /// <summary>Set for a directory.</summary>
    public const byte DirectoryFlag = 1;

    /// <summary>Set when the size is in the table's overflow map (above 4 GiB, or negative).</summary>
    public const byte BigSizeFlag = 2;

    /// <summary>Bytes of a record.</summary>
    public const int Bytes = 28;

    public uint SequenceLow;
    public uint SequenceHigh;
    public uint ParentId;
    public uint SizeLow;
    public int InlinePage;

    /// <summary>One more than the index of the chunk map or child list in the table's extension slots; 0 for none.</summary>
    public int Ext;

    public ushort InlineOffset;
    public byte NameLength;
    public byte Flags;

    public ulong Sequence
    {
        readonly get => ((ulong)SequenceHigh << 32) | SequenceLow;
        set
        {
            SequenceLow = (uint)value;
            SequenceHigh = (uint)(value >> 32);
        }
    }

    public readonly bool IsDirectory => (Flags & DirectoryFlag) != 0;
}

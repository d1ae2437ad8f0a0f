using System.Buffers.Binary;
using Flash.Ffs.Format;
using System.Text;
using Flash.Svm.Sgc;

namespace Flash.Svm.Packages;

/// <summary>One component body of a package as its header places it.</summary>
/// <param name="Index">Position in the header's entry table (and in the stream).</param>
/// <param name="Name">Component name.</param>
/// <param name="Offset">Offset into the body.</param>
/// <param name="Length">Bytes.</param>
/// <param name="Crc">CRC-32C of the content.</param>
/// <param name="Component">The SGC file's description of it (size, CRC-32C, SHA-256).</param>
internal sealed record PackageEntry(int Index, string Name, long Offset, long Length, uint Crc, SgcComponent Component);

/// <summary>
/// The header of a package (formats 1 and 2) parsed from its first bytes, with every check that can be made before the
/// bodies arrive: magic, version, flags, header CRC, SGC file, entry names and limits, release consistency, the
/// configured anti-rollback floor. The header is not signed; its SGC file is trusted only once the envelope that
/// comes last in the stream verified and carries the same bytes (<see cref="PackageStreamReader"/>). For streaming,
/// the bodies must lie in table order, one after the other, covering the body exactly (as every builder writes them).
/// </summary>
internal sealed class PackageHeader
{
    /// <summary>Largest header a streamed package may have; it is held in memory (an SGC file is a few KiB).</summary>
    public const int MaxStreamedHeaderSize = 256 * 1024;

    private PackageHeader(ushort format, ushort flags, byte[] bytes, SgcFile sgc, byte[] sgcBytes, IReadOnlyList<PackageEntry> entries, long dataLength)
    {
        Format = format;
        Flags = flags;
        Bytes = bytes;
        Sgc = sgc;
        SgcBytes = sgcBytes;
        Entries = entries;
        DataLength = dataLength;
    }

    /// <summary>Package format version (1 or 2).</summary>
    public ushort Format { get; }

    /// <summary>Header flags (<see cref="SoftwarePackage.DeltaFlag"/>).</summary>
    public ushort Flags { get; }

    /// <summary>Whether the package may leave out components of its SGC file.</summary>
    public bool IsDelta => (Flags & SoftwarePackage.DeltaFlag) != 0;

    /// <summary>The header bytes, CRC included.</summary>
    public byte[] Bytes { get; }

    /// <summary>Header length in bytes.</summary>
    public int Length => Bytes.Length;

    /// <summary>The SGC file the header carries (unsigned until the envelope verified).</summary>
    public SgcFile Sgc { get; }

    /// <summary>Its bytes.</summary>
    public byte[] SgcBytes { get; }

    /// <summary>The component bodies in stream order.</summary>
    public IReadOnlyList<PackageEntry> Entries { get; }

    /// <summary>Length of the body (all component contents).</summary>
    public long DataLength { get; }

    /// <summary>Where the trailer starts (header plus body).</summary>
    public long TrailerOffset => Length + DataLength;

    /// <summary>Whether the package carries a component.</summary>
    /// <param name="name">Component name.</param>
    /// <returns>True when it does.</returns>
    public bool Contains(string name) => Entries.Any(e => e.Name == name);

    /// <summary>Parses a header from the first bytes of a package.</summary>
    /// <param name="data">The bytes received so far.</param>
    /// <param name="options">Limits and the anti-rollback floor.</param>
    /// <returns>The header, or null when more bytes are needed.</returns>
    /// <exception cref="PackageRejectedException">The header is not acceptable.</exception>
    public static PackageHeader? TryParse(ReadOnlySpan<byte> data, PackageVerificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (data.Length >= 4 && BinaryPrimitives.ReadUInt32LittleEndian(data) != SoftwarePackage.Magic)
        {
            throw new PackageRejectedException(PackageRejectReason.BadFormat, "Not a software package.");
        }

        var c = new Cursor(data);
        if (!c.Skip(4) || !c.U16(out var format) || !c.U16(out var flags))
        {
            return null;
        }

        if (format is not (SoftwarePackage.FormatVersion or SoftwarePackage.EnvelopedFormatVersion))
        {
            throw new PackageRejectedException(PackageRejectReason.BadFormat, "Unsupported package format version.");
        }

        if ((flags & ~SoftwarePackage.DeltaFlag) != 0)
        {
            throw new PackageRejectedException(PackageRejectReason.BadFormat, $"Unknown package flags 0x{flags:X4}.");
        }

        if (!c.U16(out var major) || !c.U16(out var minor) || !c.U16(out var patch) || !c.U32(out var count) || !c.U32(out var sgcLength))
        {
            return null;
        }

        if (count > 4096 || sgcLength > MaxStreamedHeaderSize)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"The header ({count} entries, SGC file of {sgcLength} bytes) exceeds what a streamed package may carry.");
        }

        var table = new List<(string Name, long Offset, long Length, uint Crc)>((int)count);
        for (var i = 0; i < count; i++)
        {
            if (!c.Str(out var name) || !c.U64(out var offset) || !c.U64(out var entryLength) || !c.U32(out var crc))
            {
                return Incomplete(c);
            }

            table.Add((name, (long)offset, (long)entryLength, crc));
        }

        if (!c.U64(out var dataLength) || !c.Take((int)sgcLength, out var sgcSpan) || !c.U32(out var headerCrc))
        {
            return Incomplete(c);
        }

        var length = c.Position;
        if (headerCrc != Crc32C.Compute(data[..(length - 4)]))
        {
            throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, "Header checksum mismatch.");
        }

        var release = new SoftwareVersion(major, minor, patch);
        var sgcBytes = sgcSpan.ToArray();
        var sgc = ParseSgc(sgcBytes);
        var entries = CheckEntries(table, sgc, (long)dataLength, options);
        var header = new PackageHeader(format, flags, data[..length].ToArray(), sgc, sgcBytes, entries, (long)dataLength);
        header.CheckRelease(release, options);
        return header;
    }

    /// <summary>Checks the total size the server announced against the layout and the limit.</summary>
    /// <param name="total">Bytes in the whole package file.</param>
    /// <param name="options">Limits.</param>
    /// <exception cref="PackageRejectedException">Too large, or too short for its own header.</exception>
    public void CheckTotal(long total, PackageVerificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (total > options.MaxPackageSize)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"{total} bytes exceeds the limit of {options.MaxPackageSize}.");
        }

        var trailer = total - TrailerOffset;
        var (min, max) = Format == SoftwarePackage.EnvelopedFormatVersion ? (9L, PackageEnvelope.MaxEnvelopeSize + 8L) : (70L, 70L);
        if (trailer < min)
        {
            throw new PackageRejectedException(PackageRejectReason.Truncated, $"The package is {total} bytes: too short for its {Length}-byte header, {DataLength}-byte body and a trailer.");
        }

        if (trailer > max)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"The package trailer is {trailer} bytes, over {max}.");
        }
    }

    private static PackageHeader? Incomplete(Cursor c)
        => c.Position > MaxStreamedHeaderSize
            ? throw new PackageRejectedException(PackageRejectReason.Oversized, $"The header exceeds {MaxStreamedHeaderSize} bytes.")
            : null;

    private static SgcFile ParseSgc(byte[] sgcBytes)
    {
        try
        {
            return SgcFile.Parse(sgcBytes);
        }
        catch (SvmFormatException ex)
        {
            throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, "SGC file: " + ex.Message);
        }
    }

    private static List<PackageEntry> CheckEntries(List<(string Name, long Offset, long Length, uint Crc)> table, SgcFile sgc, long dataLength, PackageVerificationOptions options)
    {
        var entries = new List<PackageEntry>(table.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        long expected = 0;
        foreach (var (name, offset, length, crc) in table)
        {
            if (!SgcFile.IsValidName(name))
            {
                throw new PackageRejectedException(PackageRejectReason.PathEscape, $"Entry name '{name}' escapes the package or is not a plain file name.");
            }

            if (length > options.MaxEntrySize || length < 0)
            {
                throw new PackageRejectedException(PackageRejectReason.Oversized, $"Entry '{name}' is {length} bytes, limit {options.MaxEntrySize}.");
            }

            if (offset != expected)
            {
                throw new PackageRejectedException(PackageRejectReason.BadFormat, $"Entry '{name}' starts at {offset}, not at {expected}: the bodies are not in stream order.");
            }

            var component = sgc.Find(name) ?? throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Entry '{name}' is not listed in the SGC file.");
            if (component.Size != length || component.Crc32C != crc)
            {
                throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, $"Entry '{name}' does not match its SGC size/CRC.");
            }

            if (!names.Add(name))
            {
                throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Entry '{name}' appears twice.");
            }

            entries.Add(new PackageEntry(entries.Count, name, offset, length, crc, component));
            expected += length;
        }

        if (expected != dataLength)
        {
            throw new PackageRejectedException(PackageRejectReason.Truncated, $"The entries hold {expected} bytes, the header declares a body of {dataLength}.");
        }

        return entries;
    }

    private void CheckRelease(SoftwareVersion release, PackageVerificationOptions options)
    {
        if (Sgc.Release != release)
        {
            throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Header release {release} differs from SGC release {Sgc.Release}.");
        }

        if (Sgc.Components.Count == 0)
        {
            throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Release {release} has no components; a node cannot boot it.");
        }

        if (release < options.AntiRollbackFloor)
        {
            throw new PackageRejectedException(PackageRejectReason.Rollback, $"Release {release} is older than the anti-rollback floor {options.AntiRollbackFloor}.");
        }

        foreach (var c in Sgc.Components)
        {
            if (!IsDelta && !Contains(c.Name))
            {
                throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Component '{c.Name}' is listed in the SGC file but missing from the package.");
            }
        }
    }

    /// <summary>Reads little-endian fields, saying "not yet" instead of throwing when the data ends.</summary>
    private ref struct Cursor(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;

        public int Position { get; private set; }

        public bool Skip(int n) => Take(n, out _);

        public bool Take(int n, out ReadOnlySpan<byte> bytes)
        {
            if (n > _data.Length - Position)
            {
                bytes = default;
                return false;
            }

            bytes = _data.Slice(Position, n);
            Position += n;
            return true;
        }

        public bool U16(out ushort value)
        {
            var ok = Take(2, out var b);
            value = ok ? BinaryPrimitives.ReadUInt16LittleEndian(b) : (ushort)0;
            return ok;
        }

        public bool U32(out uint value)
        {
            var ok = Take(4, out var b);
            value = ok ? BinaryPrimitives.ReadUInt32LittleEndian(b) : 0;
            return ok;
        }

        public bool U64(out ulong value)
        {
            var ok = Take(8, out var b);
            value = ok ? BinaryPrimitives.ReadUInt64LittleEndian(b) : 0;
            return ok;
        }

        public bool Str(out string value)
        {
            value = "";
            if (!U16(out var n) || !Take(n, out var b))
            {
                return false;
            }

            value = Encoding.UTF8.GetString(b);
            return true;
        }
    }
}

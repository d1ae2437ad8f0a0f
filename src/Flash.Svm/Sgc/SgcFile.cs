using System.Buffers.Binary;
using System.Security.Cryptography;
using Flash.Ffs.Format;

namespace Flash.Svm.Sgc;

/// <summary>The kind of programmable device a component programs.</summary>
public enum ProgrammableDeviceKind : byte
{
    /// <summary>The component is software for the module's processor.</summary>
    None = 0,
    /// <summary>The component is a bitstream for an FPGA.</summary>
    Fpga = 1,
    /// <summary>The component is an image for a CPLD.</summary>
    Cpld = 2,
}

/// <summary>One component file listed in an SGC file.</summary>
/// <param name="Name">File name of the component inside a context (letters, digits, <c>-_.</c>).</param>
/// <param name="Version">Component version.</param>
/// <param name="Size">Size in bytes.</param>
/// <param name="Crc32C">CRC-32C of the content.</param>
/// <param name="Sha256">SHA-256 of the content (32 bytes).</param>
/// <param name="DeviceKind">Whether the component programs an FPGA or CPLD.</param>
/// <param name="DeviceName">Name of the programmable device on the module (e.g. <c>FPGA0</c>); empty for software.</param>
public sealed record SgcComponent(string Name, SoftwareVersion Version, long Size, uint Crc32C, byte[] Sha256, ProgrammableDeviceKind DeviceKind = ProgrammableDeviceKind.None, string DeviceName = "")
{
    /// <summary>True when the component programs a programmable device.</summary>
    public bool IsProgrammableDevice => DeviceKind != ProgrammableDeviceKind.None;

    /// <summary>Describes a component from its content.</summary>
    /// <param name="name">Component name.</param>
    /// <param name="version">Component version.</param>
    /// <param name="content">The component file.</param>
    /// <param name="kind">Programmable device kind, if any.</param>
    /// <param name="deviceName">Programmable device name, if any.</param>
    /// <returns>The SGC entry.</returns>
    public static SgcComponent Describe(string name, SoftwareVersion version, ReadOnlySpan<byte> content, ProgrammableDeviceKind kind = ProgrammableDeviceKind.None, string deviceName = "")
        => new(name, version, content.Length, Ffs.Format.Crc32C.Compute(content), SHA256.HashData(content), kind, deviceName);

    /// <summary>True when <paramref name="content"/> matches size, CRC-32C and SHA-256.</summary>
    /// <param name="content">The component file read back.</param>
    /// <returns>Whether it matches.</returns>
    public bool Matches(ReadOnlySpan<byte> content)
        => content.Length == Size && Ffs.Format.Crc32C.Compute(content) == Crc32C && SHA256.HashData(content).AsSpan().SequenceEqual(Sha256);

    /// <summary>True when both entries describe the same content and target.</summary>
    /// <param name="other">The other entry.</param>
    /// <returns>Whether they are the same component.</returns>
    public bool SameContentAs(SgcComponent other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Name == other.Name && Size == other.Size && Crc32C == other.Crc32C && Sha256.AsSpan().SequenceEqual(other.Sha256)
            && DeviceKind == other.DeviceKind && DeviceName == other.DeviceName;
    }
}

/// <summary>A processor module position on the backplane.</summary>
/// <param name="ModuleType">Module type, e.g. <c>traffic</c> or <c>xconnect</c>.</param>
/// <param name="Slot">Slot number.</param>
public readonly record struct ModuleAddress(string ModuleType, int Slot)
{
    /// <inheritdoc />
    public override string ToString() => $"{ModuleType}@{Slot}";
}

/// <summary>Maps a component to the modules that need it.</summary>
/// <param name="ModuleType">Module type.</param>
/// <param name="Slot">Slot, or <see cref="AnySlot"/> for every module of the type.</param>
/// <param name="Component">Component name.</param>
public sealed record SgcMapping(string ModuleType, int Slot, string Component)
{
    /// <summary>Slot wildcard.</summary>
    public const int AnySlot = -1;

    /// <summary>True when the mapping applies to the module.</summary>
    /// <param name="module">The module.</param>
    /// <returns>Whether it applies.</returns>
    public bool AppliesTo(ModuleAddress module) => module.ModuleType == ModuleType && (Slot == AnySlot || Slot == module.Slot);
}

/// <summary>
/// The software generic control (SGC) file of a context: the release version, every component with its checksums,
/// and which processor modules need which components. Binary, little-endian, versioned, CRC-32C protected; see <c>docs/sgc.md</c>.
/// </summary>
public sealed class SgcFile
{
    /// <summary>Magic number <c>SGCF</c>.</summary>
    public const uint Magic = 0x46434753;

    /// <summary>The format version written by this library (2 added the security counter; version 1 files are still read).</summary>
    public const ushort FormatVersion = 2;

    /// <summary>Creates an SGC file.</summary>
    /// <param name="release">Release version.</param>
    /// <param name="components">Components.</param>
    /// <param name="mappings">Component-to-module mappings.</param>
    /// <param name="securityCounter">The anti-rollback security counter; <see cref="DefaultSecurityCounter"/> of the release when null.</param>
    public SgcFile(SoftwareVersion release, IReadOnlyList<SgcComponent> components, IReadOnlyList<SgcMapping> mappings, ulong? securityCounter = null)
    {
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(mappings);
        Release = release;
        SecurityCounter = securityCounter ?? DefaultSecurityCounter(release);
        Components = components;
        Mappings = mappings;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in components)
        {
            if (!IsValidName(c.Name))
            {
                throw new SvmFormatException($"Component name '{c.Name}' is not allowed.");
            }

            if (!names.Add(c.Name))
            {
                throw new SvmFormatException($"Component '{c.Name}' is listed twice.");
            }

            if (c.Sha256.Length != 32 || c.Size < 0)
            {
                throw new SvmFormatException($"Component '{c.Name}' has a bad digest or size.");
            }
        }

        foreach (var m in mappings)
        {
            if (!names.Contains(m.Component))
            {
                throw new SvmFormatException($"Mapping for {m.ModuleType}@{m.Slot} names unknown component '{m.Component}'.");
            }
        }
    }

    /// <summary>Release version of the software set.</summary>
    public SoftwareVersion Release { get; }

    /// <summary>
    /// The anti-rollback security counter (signed with the release, as MCUboot's security counter): a node refuses a
    /// release whose counter is below the floor it stored when a release committed. Releases that may replace each
    /// other in both directions share a counter.
    /// </summary>
    public ulong SecurityCounter { get; }

    /// <summary>The counter of a release that names none (and of every format-1 SGC file): major, minor, patch packed into 48 bits, so a newer version never has a lower counter.</summary>
    /// <param name="release">The release.</param>
    /// <returns>The counter.</returns>
    public static ulong DefaultSecurityCounter(SoftwareVersion release) => ((ulong)release.Major << 32) | ((ulong)release.Minor << 16) | release.Patch;

    /// <summary>Components.</summary>
    public IReadOnlyList<SgcComponent> Components { get; }

    /// <summary>Mappings of components to modules.</summary>
    public IReadOnlyList<SgcMapping> Mappings { get; }

    /// <summary>Total size of all components.</summary>
    public long TotalSize => Components.Sum(c => c.Size);

    /// <summary>Finds a component by name.</summary>
    /// <param name="name">Component name.</param>
    /// <returns>The component or null.</returns>
    public SgcComponent? Find(string name) => Components.FirstOrDefault(c => c.Name == name);

    /// <summary>The components a module needs, in SGC order.</summary>
    /// <param name="module">The module.</param>
    /// <returns>The components.</returns>
    public IReadOnlyList<SgcComponent> ComponentsFor(ModuleAddress module)
    {
        var wanted = Mappings.Where(m => m.AppliesTo(module)).Select(m => m.Component).ToHashSet(StringComparer.Ordinal);
        return Components.Where(c => wanted.Contains(c.Name)).ToList();
    }

    /// <summary>A name is a plain file name: 1–64 characters of letters, digits, '-', '_' and '.', not starting with '.'.</summary>
    /// <param name="name">The name.</param>
    /// <returns>Whether it is allowed.</returns>
    public static bool IsValidName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || name[0] == '.')
        {
            return false;
        }

        foreach (char ch in name)
        {
            if (!(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Serialises the file (with its trailing CRC-32C).</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes()
    {
        var w = LittleEndianWriter.Growable(256);
        try
        {
            Write(ref w);
            w.AppendCrc32C();
            return w.Written.ToArray();
        }
        finally
        {
            w.Dispose();
        }
    }

    private void Write(ref LittleEndianWriter w)
    {
        w.U32(Magic);
        w.U16(FormatVersion);
        w.U16(0);
        w.Version(Release);
        w.U64(SecurityCounter);
        w.U32((uint)Components.Count);
        foreach (var c in Components)
        {
            w.Utf8WithLength16(c.Name);
            w.Version(c.Version);
            w.U64((ulong)c.Size);
            w.U32(c.Crc32C);
            w.Bytes(c.Sha256);
            w.U8((byte)c.DeviceKind);
            w.Utf8WithLength16(c.DeviceName);
        }

        w.U32((uint)Mappings.Count);
        foreach (var m in Mappings)
        {
            w.Utf8WithLength16(m.ModuleType);
            w.U32(unchecked((uint)m.Slot));
            w.Utf8WithLength16(m.Component);
        }
    }

    /// <summary>Parses and checks an SGC file.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The file.</returns>
    /// <exception cref="SvmFormatException">Bad magic, unknown version, bad checksum or malformed content.</exception>
    public static SgcFile Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < sizeof(uint))
        {
            throw new SvmFormatException("SGC file is truncated.");
        }

        var body = data[..^sizeof(uint)];
        if (Crc32C.Compute(body) != BinaryPrimitives.ReadUInt32LittleEndian(data[^sizeof(uint)..]))
        {
            throw new SvmFormatException("SGC file checksum mismatch.");
        }

        var r = new LittleEndianReader(body, static () => new SvmFormatException("SGC file: unexpected end of data or malformed text."));
        if (r.U32() != Magic)
        {
            throw new SvmFormatException("Not an SGC file.");
        }

        ushort version = r.U16();
        if (version is not (1 or FormatVersion))
        {
            throw new SvmFormatException($"SGC format version {version} is not supported.");
        }

        r.U16();
        var release = r.Version();
        ulong counter = version >= 2 ? r.U64() : DefaultSecurityCounter(release);
        uint count = r.U32();
        if (count > 4096)
        {
            throw new SvmFormatException("Too many components.");
        }

        var components = new List<SgcComponent>((int)count);
        for (int i = 0; i < count; i++)
        {
            string name = r.Utf8WithLength16();
            var v = r.Version();
            ulong size = r.U64();
            if (size > long.MaxValue)
            {
                throw new SvmFormatException($"Component '{name}' has a size of {size} bytes.");
            }

            uint crc = r.U32();
            byte[] sha = r.Bytes(32).ToArray();
            var kind = (ProgrammableDeviceKind)r.U8();
            if (kind > ProgrammableDeviceKind.Cpld)
            {
                throw new SvmFormatException($"Unknown device kind {kind}.");
            }

            components.Add(new SgcComponent(name, v, (long)size, crc, sha, kind, r.Utf8WithLength16()));
        }

        uint mcount = r.U32();
        if (mcount > 65536)
        {
            throw new SvmFormatException("Too many mappings.");
        }

        var mappings = new List<SgcMapping>((int)mcount);
        for (int i = 0; i < mcount; i++)
        {
            mappings.Add(new SgcMapping(r.Utf8WithLength16(), unchecked((int)r.U32()), r.Utf8WithLength16()));
        }

        if (r.Remaining != 0)
        {
            throw new SvmFormatException("Trailing bytes in SGC file.");
        }

        return new SgcFile(release, components, mappings, counter);
    }

    /// <summary>Compares this (new) SGC file with the current one for a partial upgrade.</summary>
    /// <param name="current">The SGC file of the current context.</param>
    /// <param name="modules">The modules present in the node.</param>
    /// <returns>Changed, unchanged and removed components and the affected modules.</returns>
    public SgcDiff CompareWith(SgcFile current, IEnumerable<ModuleAddress> modules)
    {
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(modules);
        var changed = new List<SgcComponent>();
        var unchanged = new List<SgcComponent>();
        foreach (var c in Components)
        {
            var old = current.Find(c.Name);
            (old is not null && old.SameContentAs(c) ? unchanged : changed).Add(c);
        }

        var removed = current.Components.Where(c => Find(c.Name) is null).Select(c => c.Name).ToList();
        var affected = new List<ModuleAddress>();
        foreach (var m in modules)
        {
            if (!SameSet(ComponentsFor(m), current.ComponentsFor(m)))
            {
                affected.Add(m);
            }
        }

        return new SgcDiff(changed, unchanged, removed, affected);
    }

    private static bool SameSet(IReadOnlyList<SgcComponent> a, IReadOnlyList<SgcComponent> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        foreach (var c in a)
        {
            var o = b.FirstOrDefault(x => x.Name == c.Name);
            if (o is null || !o.SameContentAs(c))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>Result of comparing a new SGC file with the current one.</summary>
/// <param name="Changed">Components that are new or whose content changed: downloaded.</param>
/// <param name="Unchanged">Components with identical content: copied from the current context.</param>
/// <param name="Removed">Names of components no longer in the release.</param>
/// <param name="AffectedModules">Modules whose set of components changed: only they are re-initialised.</param>
public sealed record SgcDiff(IReadOnlyList<SgcComponent> Changed, IReadOnlyList<SgcComponent> Unchanged, IReadOnlyList<string> Removed, IReadOnlyList<ModuleAddress> AffectedModules);

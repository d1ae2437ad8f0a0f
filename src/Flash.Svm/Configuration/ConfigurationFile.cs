using System.Buffers.Binary;
using System.Text;
using Flash.Ffs.Format;
using Flash.Svm.Sgc;

namespace Flash.Svm.Configuration;

/// <summary>
/// A node or module configuration: ordered key/value settings with a revision number, stored per context as
/// <c>SVMC</c> magic, format version, revision, settings and a trailing CRC-32C.
/// </summary>
public sealed class ConfigurationFile
{
    /// <summary>Magic number <c>SVMC</c>.</summary>
    public const uint Magic = 0x434D5653;

    /// <summary>The format version written by this library.</summary>
    public const ushort FormatVersion = 1;

    /// <summary>Name of the node configuration.</summary>
    public const string NodeName = "node";

    /// <summary>Creates a configuration.</summary>
    /// <param name="name">Configuration name: <see cref="NodeName"/> or <see cref="ModuleName"/>.</param>
    /// <param name="revision">Revision number (incremented on every change).</param>
    /// <param name="settings">Settings.</param>
    public ConfigurationFile(string name, ulong revision, IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (!SgcFile.IsValidName(name))
        {
            throw new ArgumentException($"Configuration name '{name}' is not allowed.", nameof(name));
        }

        Name = name;
        Revision = revision;
        Settings = new SortedDictionary<string, string>(settings.ToDictionary(p => p.Key, p => p.Value), StringComparer.Ordinal);
    }

    /// <summary>Configuration name.</summary>
    public string Name { get; }

    /// <summary>Revision number.</summary>
    public ulong Revision { get; }

    /// <summary>Settings, sorted by key.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    /// <summary>The name of a module's configuration file.</summary>
    /// <param name="module">The module.</param>
    /// <returns>The name, e.g. <c>module-traffic-3</c>.</returns>
    public static string ModuleName(ModuleAddress module) => $"module-{module.ModuleType}-{module.Slot}";

    /// <summary>Returns a copy with one setting changed and the revision incremented.</summary>
    /// <param name="key">Setting key.</param>
    /// <param name="value">New value.</param>
    /// <returns>The new configuration.</returns>
    public ConfigurationFile With(string key, string value)
    {
        var d = Settings.ToDictionary(p => p.Key, p => p.Value);
        d[key] = value;
        return new ConfigurationFile(Name, Revision + 1, d);
    }

    /// <summary>Serialises the configuration with its checksum.</summary>
    /// <returns>The bytes.</returns>
    public byte[] ToBytes()
    {
        var w = LittleEndianWriter.Growable(256);
        try
        {
            w.U32(Magic);
            w.U16(FormatVersion);
            w.Utf8WithLength16(Name);
            w.U64(Revision);
            w.U32((uint)Settings.Count);
            foreach (var (k, v) in Settings)
            {
                w.Utf8WithLength16(k);
                w.Utf8WithLength16(v);
            }

            w.AppendCrc32C();
            return w.Written.ToArray();
        }
        finally
        {
            w.Dispose();
        }
    }

    /// <summary>Parses and checks a configuration file.</summary>
    /// <param name="data">The bytes.</param>
    /// <returns>The configuration.</returns>
    /// <exception cref="SvmFormatException">The file is corrupt.</exception>
    public static ConfigurationFile Parse(ReadOnlySpan<byte> data)
    {
        if (data.Length < sizeof(uint))
        {
            throw new SvmFormatException("Configuration file is truncated.");
        }

        var body = data[..^sizeof(uint)];
        if (Crc32C.Compute(body) != BinaryPrimitives.ReadUInt32LittleEndian(data[^sizeof(uint)..]))
        {
            throw new SvmFormatException("Configuration file checksum mismatch.");
        }

        var r = new LittleEndianReader(body, static () => new SvmFormatException("Configuration file: unexpected end of data or malformed text."));
        if (r.U32() != Magic || r.U16() != FormatVersion)
        {
            throw new SvmFormatException("Not a configuration file of a supported version.");
        }

        string name = r.Utf8WithLength16();
        if (!SgcFile.IsValidName(name))
        {
            throw new SvmFormatException($"Configuration name '{name}' is not allowed.");
        }

        ulong revision = r.U64();
        uint n = r.U32();
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            d[r.Utf8WithLength16()] = r.Utf8WithLength16();
        }

        return new ConfigurationFile(name, revision, d);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        var sb = new StringBuilder($"{Name} r{Revision}:");
        foreach (var (k, v) in Settings)
        {
            sb.Append(' ').Append(k).Append('=').Append(v);
        }

        return sb.ToString();
    }
}

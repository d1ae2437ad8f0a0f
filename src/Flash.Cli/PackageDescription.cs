using System.Text.Json;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;

namespace Flash.Cli;

/// <summary>
/// The SGC description <c>flashctl create</c> reads: the release, each component (file in the folder, version,
/// programmable device) and the component-to-module mappings, as JSON (see docs/cli.md for an example).
/// </summary>
/// <param name="Release">The release version.</param>
/// <param name="Components">The components with their content read from the folder.</param>
/// <param name="Mappings">Which modules load which component.</param>
public sealed record PackageDescription(SoftwareVersion Release, IReadOnlyList<PackageComponent> Components, IReadOnlyList<SgcMapping> Mappings)
{
    /// <summary>Parses a description and reads the component files from a folder.</summary>
    /// <param name="json">The description.</param>
    /// <param name="folder">The folder holding the component files.</param>
    /// <returns>The description.</returns>
    /// <exception cref="CliException">The description is malformed or names a file outside the folder.</exception>
    public static PackageDescription Parse(string json, string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        try
        {
            using var doc = JsonDocument.Parse(json);
            var root = doc.RootElement;
            var release = SoftwareVersion.Parse(Required(root, "release").GetString()!);
            string fullFolder = Path.GetFullPath(folder) + Path.DirectorySeparatorChar;
            var components = new List<PackageComponent>();
            foreach (var c in Required(root, "components").EnumerateArray())
            {
                string name = Required(c, "name").GetString()!;
                string file = c.TryGetProperty("file", out var f) ? f.GetString()! : name;
                string full = Path.GetFullPath(Path.Combine(fullFolder, file));
                if (!full.StartsWith(fullFolder, StringComparison.Ordinal))
                {
                    throw new CliException(ExitCodes.Usage, $"Component '{name}': file '{file}' lies outside the folder {folder}.");
                }

                var version = c.TryGetProperty("version", out var v) ? SoftwareVersion.Parse(v.GetString()!) : release;
                var kind = ProgrammableDeviceKind.None;
                string device = "";
                if (c.TryGetProperty("device", out var d))
                {
                    kind = Enum.Parse<ProgrammableDeviceKind>(Required(d, "kind").GetString()!, ignoreCase: true);
                    device = Required(d, "name").GetString()!;
                }

                components.Add(new PackageComponent(name, version, File.ReadAllBytes(full), kind, device));
            }

            var mappings = new List<SgcMapping>();
            foreach (var m in Required(root, "mappings").EnumerateArray())
            {
                var slot = Required(m, "slot");
                int s = slot.ValueKind == JsonValueKind.String && slot.GetString() == "any" ? SgcMapping.AnySlot : slot.GetInt32();
                mappings.Add(new SgcMapping(Required(m, "module").GetString()!, s, Required(m, "component").GetString()!));
            }

            return new PackageDescription(release, components, mappings);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException)
        {
            throw new CliException(ExitCodes.Usage, "SGC description: " + ex.Message);
        }
    }

    private static JsonElement Required(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) ? v : throw new KeyNotFoundException($"'{name}' is missing.");
}

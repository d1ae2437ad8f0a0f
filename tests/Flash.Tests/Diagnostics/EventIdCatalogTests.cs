using System.Text.RegularExpressions;

namespace Flash.Tests.Diagnostics;

/// <summary>
/// Every log event id declared in the libraries is unique across them and listed in docs/observability.md's table, so
/// an operator can filter on an id and find what it means. Reads the sources and the document as text, so the check
/// covers the libraries this test project does not reference (network, hosting, tool) and the samples.
/// </summary>
public sealed partial class EventIdCatalogTests
{
    [GeneratedRegex(@"public static readonly EventId (\w+) = new\((\d+)")]
    private static partial Regex DeclaredId();

    [GeneratedRegex(@"LoggerMessage\(EventId = (\d+)")]
    private static partial Regex LoggerMessageId();

    [GeneratedRegex(@"^\| (\d+) \| (\w+) \|", RegexOptions.Multiline)]
    private static partial Regex DocumentedRow();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Flash.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Flash.sln not found above " + AppContext.BaseDirectory);
    }

    private static List<(int Id, string? Name, string Library)> SourceIds(string root)
    {
        var ids = new List<(int, string?, string)>();
        foreach (var file in new[] { "src", "samples" }.SelectMany(top => Directory.EnumerateFiles(Path.Combine(root, top), "*.cs", SearchOption.AllDirectories)))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            {
                continue;
            }

            var parts = Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar);
            var library = parts[0] + "/" + parts[1];
            var text = File.ReadAllText(file);
            ids.AddRange(DeclaredId().Matches(text).Select(m => (int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), (string?)m.Groups[1].Value, library)));
            ids.AddRange(LoggerMessageId().Matches(text).Select(m => (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), (string?)null, library)));
        }

        return ids;
    }

    [Fact]
    public void Every_event_id_is_unique_and_documented()
    {
        var root = RepositoryRoot();
        var ids = SourceIds(root);
        Assert.NotEmpty(ids);

        // One meaning per id: two declarations of an id must be the same name; a [LoggerMessage] may reuse an id its
        // own library declares (the declared field names it).
        foreach (var group in ids.GroupBy(i => i.Id))
        {
            var names = group.Where(i => i.Name is not null).Select(i => i.Name).Distinct().ToList();
            Assert.True(names.Count <= 1, $"event id {group.Key} has several names: {string.Join(", ", names)}");
            var libraries = group.Select(i => i.Library).Distinct().ToList();
            Assert.True(libraries.Count == 1, $"event id {group.Key} is used by several libraries: {string.Join(", ", libraries)}");
        }

        var documented = DocumentedRow().Matches(File.ReadAllText(Path.Combine(root, "docs", "observability.md")))
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        var missing = ids.Select(i => i.Id).Distinct().Where(id => !documented.Contains(id)).Order().ToList();
        Assert.True(missing.Count == 0, "event ids missing from docs/observability.md: " + string.Join(", ", missing));
    }
}

using System.Text.RegularExpressions;

namespace Flash.Tests.Ffs.Blocks;

/// <summary>
/// Block states change only in the block pool: no file of the file system outside <c>Blocks/</c> (and the table's own
/// file) applies a transition, sets a state, marks a block erased or counts an erase. The one exception is the
/// checkpoint decoder, which loads the table as the checkpoint image recorded it at mount. Reads the sources as text.
/// </summary>
public sealed partial class BlockOwnershipTests
{
    [GeneratedRegex(@"\.State\.(Apply|Restore)\(|\.Erased\[[^\]]+\]\s*=[^=]|\.EraseCount\[[^\]]+\]\s*(\+\+|\+=|=[^=])")]
    private static partial Regex BlockStateWrite();

    [Fact]
    public void Only_the_block_pool_changes_block_states()
    {
        var root = RepositoryRoot();
        var ffs = Path.Combine(root, "src", "Flash.Ffs");
        var offenders = new List<string>();
        foreach (var file in Directory.EnumerateFiles(ffs, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(ffs, file).Replace(Path.DirectorySeparatorChar, '/');
            if (relative.StartsWith("obj/", StringComparison.Ordinal) || relative.StartsWith("bin/", StringComparison.Ordinal)
                || relative.StartsWith("Blocks/", StringComparison.Ordinal) || relative == "Wear/BlockTable.cs")
            {
                continue;
            }

            var lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (BlockStateWrite().IsMatch(lines[i]) && !IsCheckpointLoad(relative))
                {
                    offenders.Add($"{relative}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }

        Assert.Empty(offenders);
    }

    /// <summary>The checkpoint decoder restores the table at mount (no transition: the CRC-checked image is the truth).</summary>
    private static bool IsCheckpointLoad(string relative) => relative == "Recovery/CheckpointRestore.cs";

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
}

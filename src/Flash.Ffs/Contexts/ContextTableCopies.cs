using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Ffs.Contexts;

/// <summary>
/// The two copies of the context table on a device's file system (<see cref="ContextLayout.TableCopy0"/>,
/// <see cref="ContextLayout.TableCopy1"/>) and the context layout they live in: which copy a generation writes, which
/// copy wins at mount, and the layout of a fresh volume. Owns no state; the file system is the caller's.
/// </summary>
/// <remarks>
/// Invariant: a commit of generation <c>g</c> writes only the copy of parity <c>g</c>, so the copy of the previous
/// generation is intact until the commit is durable, and at mount the valid copy with the highest generation is the
/// last committed table.
/// </remarks>
internal static class ContextTableCopies
{
    /// <summary>The copy a table of <paramref name="generation"/> is written to.</summary>
    /// <param name="generation">The new table's generation.</param>
    /// <returns><see cref="ContextLayout.TableCopy0"/> for even, <see cref="ContextLayout.TableCopy1"/> for odd.</returns>
    internal static string PathFor(ulong generation) => (generation & 1) == 0 ? ContextLayout.TableCopy0 : ContextLayout.TableCopy1;

    /// <summary>Whether the file system carries the context layout (<c>/system</c>, <c>/ctx0</c>, <c>/ctx1</c>).</summary>
    /// <param name="fs">The file system.</param>
    /// <returns>True when all three directories exist.</returns>
    internal static bool HasLayout(FlashFileSystem fs)
        => fs.Exists(ContextLayout.SystemDirectory) && fs.Exists(ContextLayout.Area0Directory) && fs.Exists(ContextLayout.Area1Directory);

    /// <summary>Reads both copies; the valid one with the highest generation wins.</summary>
    /// <param name="fs">The file system.</param>
    /// <param name="logger">Where a damaged copy is reported (not for a fresh volume, whose second copy was never written).</param>
    /// <returns>The table.</returns>
    /// <exception cref="ContextTableCorruptException">Neither copy is valid; the message names what is wrong with each.</exception>
    internal static ContextTable ReadNewest(FlashFileSystem fs, ILogger? logger)
    {
        ContextTable? best = null;
        var errors = new List<string>(2);
        foreach (string path in (ReadOnlySpan<string>)[ContextLayout.TableCopy0, ContextLayout.TableCopy1])
        {
            string? error;
            if (!fs.Exists(path))
            {
                error = $"{path} is missing";
            }
            else
            {
                try
                {
                    if (ContextTable.TryDecode(fs.ReadAllBytes(path), out var t, out error) && (best is null || t.Generation > best.Generation))
                    {
                        best = t;
                    }
                }
                catch (FlashDataCorruptException ex)
                {
                    error = ex.Message;
                }
            }

            if (error is not null)
            {
                errors.Add($"{path}: {error}");
            }
        }

        if (best is null)
        {
            throw new ContextTableCorruptException("No valid context table: " + string.Join("; ", errors));
        }

        if (errors.Count > 0 && best.Generation > 1)
        {
            (logger ?? NullLogger.Instance).LogWarning(ContextEvents.TableCopyDamaged, "Context table copy unusable ({Error}); using generation {Generation}", errors[0], best.Generation);
        }

        return best;
    }

    /// <summary>Stages <paramref name="table"/> into its copy (by the parity of its generation).</summary>
    /// <param name="txn">The transaction that carries the change the table describes.</param>
    /// <param name="table">The new table.</param>
    internal static void Stage(FlashTransaction txn, ContextTable table) => txn.WriteAllBytes(PathFor(table.Generation), table.Encode());

    /// <summary>Lays out the system and context areas on a mounted file system with a given table, in one atomic commit.</summary>
    /// <param name="fs">The file system (directories that exist already are kept).</param>
    /// <param name="table">The first table.</param>
    internal static void Initialize(FlashFileSystem fs, ContextTable table)
    {
        using var txn = fs.BeginTransaction();
        foreach (string dir in (ReadOnlySpan<string>)[ContextLayout.SystemDirectory, ContextLayout.Area0Directory, ContextLayout.Area1Directory])
        {
            if (!fs.Exists(dir))
            {
                txn.CreateDirectory(dir);
            }
        }

        Stage(txn, table);
        txn.Commit();
    }

    /// <summary>The copy that does not hold <paramref name="table"/>: the previous generation, kept as the fallback.</summary>
    /// <param name="table">The newest table of the device.</param>
    /// <returns>Its absolute path.</returns>
    internal static string OlderCopyPath(ContextTable table) => PathFor(table.Generation + 1);

    /// <summary>
    /// Stages, in <paramref name="txn"/> on <paramref name="fs"/>, both table copies as another device holds them: the
    /// newest <paramref name="table"/> and the older copy's bytes, or the older copy's removal when that device has none
    /// (the redundant pair's resynchronisation copies the tables verbatim through this, never naming their paths).
    /// </summary>
    /// <param name="txn">The target's transaction that also carries the rest of the final resync commit.</param>
    /// <param name="fs">The target's file system.</param>
    /// <param name="table">The source's newest table.</param>
    /// <param name="olderCopy">The source's older copy as stored, or null when it has none readable.</param>
    internal static void StageAsOnSource(FlashTransaction txn, FlashFileSystem fs, ContextTable table, byte[]? olderCopy)
    {
        string older = OlderCopyPath(table);
        Stage(txn, table);
        if (olderCopy is not null)
        {
            txn.WriteAllBytes(older, olderCopy);
        }
        else if (fs.Exists(older))
        {
            txn.Delete(older);
        }
    }
}

namespace Flash.Ffs.Recovery;

/// <summary>
/// Which entries the replay left without a change they had on flash, so that the changes after it that depend on
/// one of them are left out too (docs/format.md, "Damage", defines "depends on"). Entries are named by id: a change
/// that replay drops taints every entry it touches, because the replayed state of those entries is now older than
/// what the log says came next. A later change depends on a dropped one when it touches a tainted entry that it does
/// not define whole (as the entry itself, as the directory it puts an entry in, or as the entry whose name it takes);
/// it is dropped whole and taints what it touches in turn. A change that is applied and defines an entry whole (a
/// delete, a directory's record, a small file's inline record, a file's data rewritten in full) clears its taint.
/// </summary>
internal sealed class ReplayDependencies
{
    private readonly Dictionary<uint, string> _tainted = [];

    /// <summary>Whether any change was dropped so far.</summary>
    public bool Any => _tainted.Count > 0;

    /// <summary>Whether the state of entry <paramref name="id"/> lacks a dropped change.</summary>
    public bool IsTainted(uint id) => id != 0 && _tainted.ContainsKey(id);

    /// <summary>
    /// The first tainted entry that a change of records <paramref name="touched"/> depends on, with the dropped
    /// change that tainted it; null when the change is independent of every dropped change.
    /// </summary>
    /// <param name="touched">Per record: the entry, the directory it is put in (0 for none), and the entry already holding that name there (0 for none).</param>
    /// <param name="defined">Entries the change defines whole: their earlier state does not matter to it.</param>
    public (uint Id, string Cause)? DependsOn(IEnumerable<(uint Id, uint Parent, uint Displaced)> touched, IReadOnlySet<uint> defined)
    {
        if (_tainted.Count == 0)
        {
            return null;
        }

        foreach (var (id, parent, displaced) in touched)
        {
            foreach (uint candidate in (ReadOnlySpan<uint>)[id, parent, displaced])
            {
                if (candidate != 0 && !defined.Contains(candidate) && _tainted.TryGetValue(candidate, out var cause))
                {
                    return (candidate, cause);
                }
            }
        }

        return null;
    }

    /// <summary>Notes that a change that defines <paramref name="defined"/> whole was applied: their state is the log's again.</summary>
    public void Applied(IReadOnlySet<uint> defined)
    {
        if (_tainted.Count == 0)
        {
            return;
        }

        foreach (uint id in defined)
        {
            _tainted.Remove(id);
        }
    }

    /// <summary>Notes that the change described by <paramref name="cause"/> was dropped: the entries it touches are tainted.</summary>
    public void Drop(IEnumerable<uint> touchedIds, string cause)
    {
        foreach (uint id in touchedIds)
        {
            if (id != 0)
            {
                _tainted.TryAdd(id, cause);
            }
        }
    }
}

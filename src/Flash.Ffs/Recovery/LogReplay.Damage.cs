using Flash.Ffs.Format;
using Flash.Ffs.Log;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs.Recovery;

/// <summary>
/// What replay does with a change that has a damaged page, and with the changes after it: a change with a page whose
/// payload cannot be verified is dropped whole, and so is every later change that depends on a dropped one
/// (<see cref="ReplayDependencies"/>); independent changes are applied. docs/format.md ("Damage") defines the rule,
/// and which changes have their data pages read at mount (<see cref="ReadsDataAtMount"/>).
/// </summary>
internal sealed partial class LogReplay
{
    /// <summary>
    /// Whether the log page <paramref name="entry"/> reads back whole into <paramref name="buffer"/>: tag and payload
    /// CRC valid, and the same sequence number the scan saw.
    /// </summary>
    private bool ReplayPageIntact(LoggedPage entry, byte[] buffer)
        => _io.Read(entry.Page, buffer, out var read) == PageReadStatus.Ok && read.Sequence == entry.Tag.Sequence;

    /// <summary>
    /// Whether a change's data pages are read whole before it is applied: when it changes metadata or more than one
    /// file, so that a damaged page drops it whole instead of leaving half of it applied. A change of one file's data
    /// alone (an overwrite that keeps the size, committed by its last data page) is applied unread: its pages are
    /// checked by every read like all data pages, a damaged one reads as corrupt (and a redundant pair heals it), and
    /// mount does not read every overwritten page of the log (on the reference W6 that doubled the mount time).
    /// </summary>
    private static bool ReadsDataAtMount(List<ReplayOp> ops)
    {
        uint file = ops.Count > 0 ? ops[0].Id : 0;
        foreach (var op in ops)
        {
            if (op.Kind != ReplayKind.Data || op.Id != file)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the data page of <paramref name="op"/> reads back whole: valid tag and payload, the entry and chunk the log says.</summary>
    private bool DataPageIntact(ReplayOp op, byte[] buffer)
        => _io.Read(op.Page, buffer, out var read) == PageReadStatus.Ok && read.Kind == PageKind.Data && read.ObjectId == op.Id && read.Chunk == op.Chunk;

    /// <summary>Notes a page whose payload cannot be verified and whose change is dropped (with its transaction).</summary>
    private void NoteDamagedReplayPage(LoggedPage entry, ReplayOutcome outcome)
    {
        _log.LogWarning(FfsEvents.RecoveryDropped, "{Kind} page {Page} (sequence {Sequence}, entry {Entry}, transaction {Txn}) is unreadable; its change is dropped",
            entry.Tag.Kind, entry.Page, entry.Tag.Sequence, entry.Tag.ObjectId, entry.Tag.TxnId);
        outcome.DamagedPages.Add(entry.Page);
    }

    /// <summary>
    /// Applies the change <paramref name="ops"/> that committed with <paramref name="tag"/>, or drops it: when
    /// <paramref name="damage"/> says why it cannot be trusted, or when it depends on a change dropped before. A
    /// dropped change taints the entries it touches.
    /// </summary>
    private void ApplyOrDropChange(List<ReplayOp> ops, PageTag tag, string? damage, ReplayDependencies dependencies, ReplayOutcome outcome, byte[] buffer)
    {
        string description = DescribeDropped(tag);
        if (damage is null && ReadsDataAtMount(ops))
        {
            foreach (var op in ops)
            {
                if (op.Kind == ReplayKind.Data && !DataPageIntact(op, buffer))
                {
                    NoteDamagedReplayPage(new LoggedPage(tag.Sequence, op.Page, tag with { Kind = PageKind.Data, ObjectId = op.Id, Chunk = op.Chunk }), outcome);
                    damage = $"its data page {op.Page} cannot be read";
                    break;
                }
            }
        }

        IReadOnlySet<uint> defined = dependencies.Any ? DefinedWholeBy(ops, _chunk) : s_noEntries;
        if (damage is null && dependencies.DependsOn(TouchedBy(ops), defined) is { } dependency)
        {
            damage = $"depends on entry {dependency.Id}, which {dependency.Cause} changed";
        }

        if (damage is not null)
        {
            outcome.Dropped.Add($"{description}, {damage}");
            dependencies.Drop(ops.Select(op => op.Id).Where(id => id != RootId), description);
            return;
        }

        foreach (var op in ops)
        {
            ApplyReplayed(op, tag.Sequence);
        }

        dependencies.Applied(defined);
    }

    private static readonly HashSet<uint> s_noEntries = [];

    /// <summary>
    /// The entries a change defines whole, whatever state they had before it: deleted ones, directories it writes a
    /// record of (a directory's own state is its name and parent), files it gives inline data, and files whose every
    /// chunk below the size of its last chunked record it writes. A rename record of a file, a data page alone and
    /// an inline move keep the file's earlier content, so they define nothing.
    /// </summary>
    private static HashSet<uint> DefinedWholeBy(List<ReplayOp> ops, int chunkSize)
    {
        var defined = new HashSet<uint>();
        Dictionary<uint, HashSet<uint>>? written = null;
        foreach (var op in ops)
        {
            switch (op.Kind)
            {
                case ReplayKind.Delete:
                case ReplayKind.Inode when op.IsDirectory || op.HasInline:
                    defined.Add(op.Id);
                    written?.Remove(op.Id);
                    break;

                case ReplayKind.Data:
                    written ??= [];
                    if (!written.TryGetValue(op.Id, out var chunks))
                    {
                        written[op.Id] = chunks = [];
                    }

                    chunks.Add(op.Chunk);
                    break;

                case ReplayKind.Inode when op.IsChunked && !defined.Contains(op.Id):
                    long needed = (op.Size + chunkSize - 1) / chunkSize;
                    if (needed == 0 || (written is not null && written.TryGetValue(op.Id, out var have) && have.Count >= needed
                        && have.Count(c => c < needed) == needed))
                    {
                        defined.Add(op.Id);
                    }

                    break;
            }
        }

        return defined;
    }

    /// <summary>Per record of a change: the entry, the directory it is put in, and the entry holding that name there now.</summary>
    private IEnumerable<(uint Id, uint Parent, uint Displaced)> TouchedBy(List<ReplayOp> ops)
    {
        foreach (var op in ops)
        {
            uint displaced = 0;
            if (op.Kind == ReplayKind.Inode && _nodes.TryGetValue(op.Parent, out var parent) && parent.Children is { } children
                && children.TryGetValue(op.Name, out var holder) && holder.Id != op.Id)
            {
                displaced = holder.Id;
            }

            yield return (op.Id, op.Kind == ReplayKind.Inode ? op.Parent : 0, displaced);
        }
    }
}

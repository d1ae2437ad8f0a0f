using System.Text;
using Flash.Drivers;
using Flash.Ffs.Checkpoint;
using Flash.Ffs.Format;
using Flash.Ffs.Index;
using Flash.Ffs.Log;
using Flash.Ffs.Recovery;
using Flash.Ffs.Wear;
using Microsoft.Extensions.Logging;

namespace Flash.Ffs;

/// <summary>
/// Format and mount wiring: format writes an empty volume; mount runs <see cref="VolumeRecovery"/> (which writes
/// nothing) and wires what it returns into the facade's fields (<see cref="AdoptRecovered"/>), then covers a replay
/// with a checkpoint when it must. Recovery is handed the anchor store, the open-transaction coverage and the inline-page
/// references directly. A replay that applied everything is not covered by a checkpoint at mount (see
/// <see cref="MountCheckpointPolicy"/>).
/// </summary>
public sealed partial class FlashFileSystem
{
    private MountReport _mountReport = MountReport.CleanMount;

    /// <summary>Whether a repairing check has acknowledged the damage the mount reported.</summary>
    private bool _mountDamageRepaired;

    /// <summary>What the mount found: whether it replayed the log, damaged pages it met, changes it left out.</summary>
    public MountReport MountReport => _mountReport;

    /// <summary>The write pool the newest anchor records (tests and diagnostics).</summary>
    internal Blocks.WritePool WritePool => _pool.Writes;

    /// <summary>The anchor store (tests: writing a refill anchor directly).</summary>
    internal Checkpoint.AnchorStore Anchors => _anchors;

    private void FormatCore(FormatOptions options)
    {
        if (Encoding.UTF8.GetByteCount(options.Label) > 32)
        {
            throw new ArgumentException("The label must be at most 32 UTF-8 bytes.", nameof(options));
        }

        if (VolumeLimits.Refusal(_g, _chunk, _io.TagInSpare) is { } refusal)
        {
            throw new FlashFileSystemException(refusal);
        }

        VolumeId = options.VolumeId ?? (uint)Random.Shared.Next(1, int.MaxValue);
        Label = options.Label;
        for (int b = 0; b < _blocks.Count; b++)
        {
            _pool.Format(b);

            if ((b & 63) == 63 || b == _blocks.Count - 1)
            {
                options.Progress?.Invoke(new FlashProgress("format", b + 1, _blocks.Count));
            }
        }

        int anchors = 0;
        for (int b = 0; b < Math.Min(AnchorStore.SearchBlocks, _blocks.Count) && anchors < 2; b++)
        {
            if (_blocks.State[b] == BlockState.Free)
            {
                _pool.AssignAnchor(b);
                _anchors.Blocks[anchors++] = b;
            }
        }

        if (anchors < 2)
        {
            throw new FlashFileSystemException($"Fewer than two good blocks among the first {AnchorStore.SearchBlocks}; the device cannot hold a volume.");
        }

        _root = new Node(RootId, 0, "", isDirectory: true);
        _index.AddUnlisted(_root);
        _mounted = true;
        _checkpoint.Write(forUnmount: true);
        _mounted = false;
    }

    private void MountCore()
    {
        var recovered = NewRecovery().Run();
        AdoptRecovered(recovered);
        if (!recovered.Clean && recovered.Report.CheckpointReason is not null)
        {
            // Last point where cancelling is safe: from here on the recovered state is written down.
            _options.MountCancellation.ThrowIfCancellationRequested();
            if (!_options.ReadOnly)
            {
                // The replay stopped early or met damage: a second recovery would stop at the same place and leave out
                // what is written after this mount too, so its outcome is written down now. A replay that applied
                // everything needs no checkpoint (MountCheckpointPolicy): the next recovery repeats it.
                try
                {
                    _checkpoint.Write(forUnmount: false);
                    _mountReport = _mountReport.WithCheckpointWritten();
                }
                catch (FlashNoSpaceException ex)
                {
                    _log.LogWarning(FfsEvents.Recovery, ex, "No room for a checkpoint after recovery; the next one will cover the replayed blocks");
                }
            }
        }

        _mounted = true;
        _programmedAtMount = _device.Statistics.DataBytesProgrammed;
        _log.LogInformation(FfsEvents.Mounted, "Mounted volume {VolumeId:X8} ({Entries} entries, {Clean})", VolumeId, _nodes.Count, recovered.Clean ? "clean" : "recovered");
    }

    /// <summary>The recovery of this (unmounted) facade's components.</summary>
    private VolumeRecovery NewRecovery() => new(_io, _pool, _index, _ppb, _options, _log, _anchors, _checkpoint.Coverage, _inline);

    /// <summary>Wires what recovery rebuilt into the facade's fields: the one place a mount sets them.</summary>
    private void AdoptRecovered(RecoveredVolume recovered)
    {
        _checkpoint.Sequence = recovered.CheckpointSequence;
        _pageLog.Sequence = recovered.Sequence;
        _ids.NextEntry = recovered.NextId;
        _ids.NextTxn = recovered.NextTxn;
        _root = recovered.Root;
        AdoptHead(_pageLog.Hot, recovered.Hot);
        AdoptHead(_pageLog.Cold, recovered.Cold);
        _checkpoint.Pages = recovered.CheckpointPages;
        _anchors.Current = recovered.AnchorCurrent;
        _anchors.WritePointer = recovered.AnchorWritePointer;
        // Blocks the replay found count toward the next checkpoint, but as at most half an interval: when the mount
        // writes no checkpoint (MountCheckpointPolicy), the one that covers them starts with the next Maintain call or
        // after half an interval of new blocks, not inside the first write after the mount. Until then those blocks
        // stay unmovable; a volume that runs out of space writes a checkpoint first (TryWriteToFreeSpace).
        _checkpoint.BlocksSinceCheckpoint = Math.Min(recovered.BlocksSinceCheckpoint, Math.Max(1, _options.CheckpointIntervalBlocks / 2));
        _checkpoint.Coverage.ListedAtMount = [];
        _mountReport = recovered.Report;
        _mountDamageRepaired = false;

        // The reserved next block is the pool's (recovery restored or cleared it).
        static void AdoptHead(Head head, RecoveredHead recovered)
        {
            head.Block = recovered.Block;
            head.WritePointer = recovered.WritePointer;
            head.Inherited = recovered.Inherited;
        }
    }

    /// <summary>Reads and decodes the current checkpoint of a volume without mounting it: writes nothing, keeps nothing (diagnostics and tests).</summary>
    /// <param name="device">The device holding the volume.</param>
    /// <returns>The checkpoint the newest anchor names.</returns>
    /// <exception cref="FileSystemCorruptException">No valid anchor or checkpoint was found.</exception>
    internal static CheckpointImage ReadCheckpointImage(IFlashDevice device)
        => new FlashFileSystem(device, new FlashFileSystemOptions()).NewRecovery().ReadImage();

    /// <summary>Mounts <paramref name="device"/>'s volume as far as recovery: nothing written, nothing wired (tests).</summary>
    /// <param name="device">The device holding the volume.</param>
    /// <param name="options">The mount options (read-only, cancellation, progress).</param>
    /// <returns>What the facade would wire.</returns>
    internal static RecoveredVolume RecoverOnly(IFlashDevice device, FlashFileSystemOptions options)
        => new FlashFileSystem(device, options).NewRecovery().Run();
}

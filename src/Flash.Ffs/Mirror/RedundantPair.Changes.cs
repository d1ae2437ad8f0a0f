using Flash.Ffs.Contexts;

namespace Flash.Ffs.Mirror;

/// <summary>Mirrored changes (each under the alternate gate, primary first, then secondary with the same id) and re-designation.</summary>
public sealed partial class RedundantPair
{
    /// <summary>Writes a file into the alternate context of both devices (primary first, then secondary).</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content.</param>
    /// <param name="cancellationToken">Cancels before the primary commit; later, see <see cref="MirrorTransactionCanceledException"/>.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> WriteAlternateAsync(string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        => MutateAsync(WriteOne(path, data), cancellationToken);

#pragma warning disable RS0026 // the synchronous twins keep the shape of the asynchronous overloads (one file, several files), whose callers pass no token
    /// <summary>Writes a file into the alternate context of both devices (primary first, then secondary).</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content.</param>
    /// <param name="cancellationToken">Cancels before the primary commit; later, see <see cref="MirrorTransactionCanceledException"/>.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable WriteAlternate(string path, ReadOnlySpan<byte> data, CancellationToken cancellationToken = default)
    {
        byte[] copy = data.ToArray();
        return Mutate(t => new ContextOperation(ContextOperationKind.Write, t.Alternate, [new(path, copy)]), cancellationToken);
    }

    /// <summary>Writes several files into the alternate context of both devices, each device in one atomic commit.</summary>
    /// <param name="files">Relative paths and contents.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> WriteAlternateAsync(IEnumerable<KeyValuePair<string, byte[]>> files, CancellationToken cancellationToken = default)
        => MutateAsync(WriteMany(files, configuration: false), cancellationToken);

    /// <summary>Writes several files into the alternate context of both devices, each device in one atomic commit.</summary>
    /// <param name="files">Relative paths and contents.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable WriteAlternate(IEnumerable<KeyValuePair<string, byte[]>> files, CancellationToken cancellationToken = default)
        => Mutate(WriteMany(files, configuration: false), cancellationToken);
#pragma warning restore RS0026

    /// <summary>Writes a file into a given area of both devices; refused when the area is current.</summary>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="CurrentContextWriteException"><paramref name="area"/> is current; nothing was written.</exception>
    public Task<ContextTable> WriteAsync(ContextArea area, string path, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        byte[] copy = data.ToArray();
        return MutateAsync(_ => new ContextOperation(ContextOperationKind.Write, area, [new(path, copy)]), cancellationToken);
    }

    /// <summary>Writes a file into a given area of both devices; refused when the area is current.</summary>
    /// <param name="area">The area.</param>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="data">The content.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="CurrentContextWriteException"><paramref name="area"/> is current; nothing was written.</exception>
    public ContextTable Write(ContextArea area, string path, ReadOnlySpan<byte> data, CancellationToken cancellationToken = default)
    {
        byte[] copy = data.ToArray();
        return Mutate(_ => new ContextOperation(ContextOperationKind.Write, area, [new(path, copy)]), cancellationToken);
    }

    /// <summary>Writes configuration files (paths under <c>config/</c>) into the current context of both devices, each device in one atomic commit.</summary>
    /// <param name="files">Relative paths and contents.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="CurrentContextWriteException">A path is outside <c>config/</c>; nothing was written.</exception>
    public Task<ContextTable> WriteCurrentConfigurationAsync(IEnumerable<KeyValuePair<string, byte[]>> files, CancellationToken cancellationToken = default)
        => MutateAsync(WriteMany(files, configuration: true), cancellationToken);

    /// <summary>Writes configuration files (paths under <c>config/</c>) into the current context of both devices, each device in one atomic commit.</summary>
    /// <param name="files">Relative paths and contents.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    /// <exception cref="CurrentContextWriteException">A path is outside <c>config/</c>; nothing was written.</exception>
    public ContextTable WriteCurrentConfiguration(IEnumerable<KeyValuePair<string, byte[]>> files, CancellationToken cancellationToken = default)
        => Mutate(WriteMany(files, configuration: true), cancellationToken);

    /// <summary>Deletes a file of the alternate context on both devices.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> DeleteAlternateAsync(string path, CancellationToken cancellationToken = default)
        => MutateAsync(t => new ContextOperation(ContextOperationKind.Delete, t.Alternate, Path: path), cancellationToken);

    /// <summary>Deletes a file of the alternate context on both devices.</summary>
    /// <param name="path">Path relative to the area.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable DeleteAlternate(string path, CancellationToken cancellationToken = default)
        => Mutate(t => new ContextOperation(ContextOperationKind.Delete, t.Alternate, Path: path), cancellationToken);

    /// <summary>Deletes everything in the alternate context on both devices and marks it invalid.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> ClearAlternateAsync(CancellationToken cancellationToken = default)
        => MutateAsync(static t => new ContextOperation(ContextOperationKind.Clear, t.Alternate), cancellationToken);

    /// <summary>Deletes everything in the alternate context on both devices and marks it invalid.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable ClearAlternate(CancellationToken cancellationToken = default)
        => Mutate(static t => new ContextOperation(ContextOperationKind.Clear, t.Alternate), cancellationToken);

    /// <summary>Marks the alternate context complete on both devices.</summary>
    /// <param name="label">Version label, or null to keep the current one.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> MarkAlternateCompleteAsync(string? label = null, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.MarkComplete, Label: label), cancellationToken);

    /// <summary>Marks the alternate context complete on both devices.</summary>
    /// <param name="label">Version label, or null to keep the current one.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable MarkAlternateComplete(string? label = null, CancellationToken cancellationToken = default)
        => Mutate(_ => new ContextOperation(ContextOperationKind.MarkComplete, Label: label), cancellationToken);

    /// <summary>Swaps current and alternate on both devices (each an atomic commit).</summary>
    /// <param name="trial">Whether the new current runs on trial until <see cref="ConfirmCurrentAsync"/>.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> SwitchContextsAsync(bool trial = false, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.Switch, Trial: trial), cancellationToken);

    /// <summary>Swaps current and alternate on both devices (each an atomic commit).</summary>
    /// <param name="trial">Whether the new current runs on trial until <see cref="ConfirmCurrent"/>.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable SwitchContexts(bool trial = false, CancellationToken cancellationToken = default)
        => Mutate(_ => new ContextOperation(ContextOperationKind.Switch, Trial: trial), cancellationToken);

    /// <summary>Sets the alternate-boot flag with a retry count on both devices.</summary>
    /// <param name="retries">Boot attempts allowed, 1 to 65535.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> SetAlternateBootAsync(int retries = 1, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.SetAlternateBoot, Retries: retries), cancellationToken);

    /// <summary>Sets the alternate-boot flag with a retry count on both devices.</summary>
    /// <param name="retries">Boot attempts allowed, 1 to 65535.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable SetAlternateBoot(int retries = 1, CancellationToken cancellationToken = default)
        => Mutate(_ => new ContextOperation(ContextOperationKind.SetAlternateBoot, Retries: retries), cancellationToken);

    /// <summary>Clears the alternate-boot flag on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> ClearAlternateBootAsync(CancellationToken cancellationToken = default)
        => MutateAsync(static _ => new ContextOperation(ContextOperationKind.ClearAlternateBoot), cancellationToken);

    /// <summary>Clears the alternate-boot flag on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable ClearAlternateBoot(CancellationToken cancellationToken = default)
        => Mutate(static _ => new ContextOperation(ContextOperationKind.ClearAlternateBoot), cancellationToken);

    /// <summary>Uses up one alternate-boot retry on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> ConsumeBootRetryAsync(CancellationToken cancellationToken = default)
        => MutateAsync(static _ => new ContextOperation(ContextOperationKind.ConsumeBootRetry), cancellationToken);

    /// <summary>Uses up one alternate-boot retry on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable ConsumeBootRetry(CancellationToken cancellationToken = default)
        => Mutate(static _ => new ContextOperation(ContextOperationKind.ConsumeBootRetry), cancellationToken);

    /// <summary>Confirms a current context on trial, on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> ConfirmCurrentAsync(CancellationToken cancellationToken = default)
        => MutateAsync(static _ => new ContextOperation(ContextOperationKind.ConfirmCurrent), cancellationToken);

    /// <summary>Confirms a current context on trial, on both devices.</summary>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable ConfirmCurrent(CancellationToken cancellationToken = default)
        => Mutate(static _ => new ContextOperation(ContextOperationKind.ConfirmCurrent), cancellationToken);

    /// <summary>Marks an area invalid on both devices.</summary>
    /// <param name="area">The area.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public Task<ContextTable> InvalidateAsync(ContextArea area, CancellationToken cancellationToken = default)
        => MutateAsync(_ => new ContextOperation(ContextOperationKind.Invalidate, area), cancellationToken);

    /// <summary>Marks an area invalid on both devices.</summary>
    /// <param name="area">The area.</param>
    /// <param name="cancellationToken">Cancels before the primary commit.</param>
    /// <returns>The primary's new context table.</returns>
    public ContextTable Invalidate(ContextArea area, CancellationToken cancellationToken = default)
        => Mutate(_ => new ContextOperation(ContextOperationKind.Invalidate, area), cancellationToken);

    /// <summary>Swaps the primary and secondary designations (stored on both devices with a new generation; the highest generation wins after a power cut).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The new primary.</returns>
    /// <exception cref="PairDegradedException">A device is out of service.</exception>
    public Task<PairMember> RedesignateAsync(CancellationToken cancellationToken = default)
        => UnderAlternateAsync(_failover.Redesignate, cancellationToken);

    /// <summary>Swaps the primary and secondary designations (stored on both devices with a new generation; the highest generation wins after a power cut).</summary>
    /// <param name="cancellationToken">Cancels the wait for admission.</param>
    /// <returns>The new primary.</returns>
    /// <exception cref="PairDegradedException">A device is out of service.</exception>
    public PairMember Redesignate(CancellationToken cancellationToken = default)
        => UnderAlternate(_failover.Redesignate, cancellationToken);

    private static Func<ContextTable, ContextOperation> WriteOne(string path, ReadOnlyMemory<byte> data)
    {
        byte[] copy = data.ToArray();
        return t => new ContextOperation(ContextOperationKind.Write, t.Alternate, [new(path, copy)]);
    }

    private static Func<ContextTable, ContextOperation> WriteMany(IEnumerable<KeyValuePair<string, byte[]>> files, bool configuration)
    {
        ArgumentNullException.ThrowIfNull(files);
        var list = files.ToArray();
        return configuration
            ? t => new ContextOperation(ContextOperationKind.WriteConfiguration, t.Current, list)
            : t => new ContextOperation(ContextOperationKind.Write, t.Alternate, list);
    }

    private async Task<ContextTable> MutateAsync(Func<ContextTable, ContextOperation> build, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return await UnderAlternateAsync(() => _protocol.Mutate(build, cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    private ContextTable Mutate(Func<ContextTable, ContextOperation> build, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return UnderAlternate(() => _protocol.Mutate(build, cancellationToken), cancellationToken);
    }
}

using Flash.Svm.Sgc;

namespace Flash.Svm.Network.Components;

/// <summary>
/// What the servers serve: the component files of the context modules boot from (the current context, which is the
/// trial context during a trial boot), read in ranges so that no server holds a whole file in memory.
/// Implementations are safe for concurrent use.
/// </summary>
public interface IComponentStore
{
    /// <summary>The SGC file of the served context.</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The SGC file.</returns>
    Task<SgcFile> SgcAsync(CancellationToken cancellationToken);

    /// <summary>Reads bytes of a component file from <paramref name="offset"/> until the destination is full or the file ends.</summary>
    /// <param name="component">The SGC entry of the component (its name locates the file; its digest identifies the content).</param>
    /// <param name="offset">Byte offset.</param>
    /// <param name="destination">Where the bytes go.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Bytes read; fewer than asked only at the end of the file.</returns>
    Task<int> ReadAsync(SgcComponent component, long offset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Called when a served component did not match its SGC digest: repairs the stored copy from the mirror if the mirror's copy matches.</summary>
    /// <param name="component">The SGC entry the content failed.</param>
    /// <param name="cancellationToken">Cancels the repair.</param>
    /// <returns>True when the stored copy was repaired.</returns>
    Task<bool> HealAsync(SgcComponent component, CancellationToken cancellationToken);
}

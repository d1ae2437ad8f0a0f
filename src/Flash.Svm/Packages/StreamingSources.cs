namespace Flash.Svm.Packages;

/// <summary>
/// Where a streamed package goes, and what survives between attempts: the bytes already held durably (the resume
/// offset) and the server's identity of the file they came from. The SVM's streaming install implements it; a source
/// fills it from <see cref="Length"/> when the server's file still has <see cref="Validator"/>, from zero otherwise.
/// </summary>
public interface IPackageSink
{
    /// <summary>Bytes of the package already held (the offset a transfer resumes from).</summary>
    long Length { get; }

    /// <summary>The server's identity of the file those bytes came from (HTTP strong ETag or Last-Modified, FTP MDTM), or null.</summary>
    string? Validator { get; }

    /// <summary>Called once per attempt, after the server said what it will send and before any byte.</summary>
    /// <param name="totalLength">Size of the whole package file.</param>
    /// <param name="validator">Its identity now.</param>
    /// <param name="fromZero">True when the held bytes must be discarded (the file changed, or the server cannot resume).</param>
    /// <exception cref="PackageRejectedException">The package is not acceptable (too large, say).</exception>
    void Begin(long totalLength, string? validator, bool fromZero);

    /// <summary>Appends bytes at <see cref="Length"/>.</summary>
    /// <param name="data">The bytes; valid only during the call.</param>
    /// <exception cref="PackageRejectedException">The package is not acceptable.</exception>
    /// <exception cref="IOException">Storing the bytes failed.</exception>
    void Append(ReadOnlySpan<byte> data);
}

/// <summary>
/// A source that streams a package into an <see cref="IPackageSink"/> instead of returning it whole: the SVM's upgrade
/// command then verifies and stores the package as it arrives (bounded memory, resumable; see docs/sgc.md
/// "Streaming install").
/// </summary>
public interface IStreamingSoftwareSource : ISoftwareSource
{
    /// <summary>Streams a package into <paramref name="sink"/>, from its <see cref="IPackageSink.Length"/> when the server's file is unchanged.</summary>
    /// <param name="parameters">Transfer parameters.</param>
    /// <param name="maxBytes">Refuse packages larger than this before any byte reaches the sink.</param>
    /// <param name="sink">Receives the bytes.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <exception cref="PackageRejectedException">The package is too large, or the sink rejected it.</exception>
    /// <exception cref="IOException">The transfer failed (after any retries the source makes).</exception>
    void Stream(TransferParameters parameters, long maxBytes, IPackageSink sink, CancellationToken cancellationToken);
}

/// <summary>
/// A source whose transfer is asynchronous I/O (the network sources of Flash.Svm.Transfer): it is consumed only through
/// <see cref="StreamAsync"/> / <see cref="FetchAsync"/>, by <c>SoftwareVersionManager.UpgradeAsync</c>, which awaits
/// the transfer and runs the install's synchronous device work as the bytes arrive (docs/architecture.md, "Sync and
/// async"). It has no synchronous streaming twin, and its <see cref="ISoftwareSource.Fetch"/> refuses with
/// <see cref="NotSupportedException"/>: nothing in the node blocks a thread on a network transfer.
/// </summary>
public interface IAsyncStreamingSoftwareSource : ISoftwareSource
{
    /// <summary>Streams a package into <paramref name="sink"/> without blocking the caller's thread.</summary>
    /// <param name="parameters">Transfer parameters.</param>
    /// <param name="maxBytes">Refuse packages larger than this before any byte reaches the sink.</param>
    /// <param name="sink">Receives the bytes (called on whichever thread the transfer completes on, one call at a time).</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <returns>A task that completes when the sink holds the whole package.</returns>
    /// <exception cref="PackageRejectedException">The package is too large, or the sink rejected it.</exception>
    /// <exception cref="IOException">The transfer failed (after any retries the source makes).</exception>
    Task StreamAsync(TransferParameters parameters, long maxBytes, IPackageSink sink, CancellationToken cancellationToken);

    /// <summary>Fetches a whole package into memory without blocking the caller's thread.</summary>
    /// <param name="parameters">Transfer parameters.</param>
    /// <param name="maxBytes">Refuse packages larger than this.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <returns>The package file.</returns>
    /// <exception cref="PackageRejectedException">The package is larger than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="IOException">The transfer failed.</exception>
    Task<byte[]> FetchAsync(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken);
}

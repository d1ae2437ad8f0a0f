using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Flash.Ffs.Format;

namespace Flash.Svm.Packages;

/// <summary>What a <see cref="PackageStreamReader"/> hands on as the package arrives.</summary>
internal interface IPackageStreamTarget
{
    /// <summary>The header arrived and passed every check that can be made without the signature.</summary>
    /// <param name="header">The header.</param>
    void OnHeader(PackageHeader header);

    /// <summary>Bytes of a component body, in order.</summary>
    /// <param name="entry">The component.</param>
    /// <param name="data">The next bytes of it; valid only during the call.</param>
    void OnComponentBytes(PackageEntry entry, ReadOnlySpan<byte> data);

    /// <summary>A component body ended and matched its size, CRC-32C and SHA-256 in the header's SGC file.</summary>
    /// <param name="entry">The component.</param>
    /// <param name="endOffset">Offset in the package just after it.</param>
    void OnComponentVerified(PackageEntry entry, long endOffset);

    /// <summary>The trailer arrived and its signature verified; the header's SGC file is the signed manifest.</summary>
    /// <param name="trailer">The trailer bytes (kept so that a resumed install can verify them again).</param>
    void OnSigned(ReadOnlySpan<byte> trailer);
}

/// <summary>
/// Reads a package (format 1 or 2) as it arrives, in bounded memory: the header is gathered and checked
/// (<see cref="PackageHeader"/>), each component body is hashed (CRC-32C and SHA-256) while it streams through to the
/// target and compared with the header's SGC file at its last byte, and the trailer is gathered and verified last:
/// for format 2 the COSE_Sign1 envelope over the SGC file (which must be the header's byte for byte); for format 1 the
/// raw signature over everything before it (hashed as it streamed). Held: the header, one trailer (up to
/// <see cref="PackageEnvelope.MaxEnvelopeSize"/>), no body bytes. A format-2 stream can start again anywhere after its
/// header (<see cref="Resume"/>; inside a body once the body's prefix is fed back to the hashes); a format-1 stream only
/// from zero (its hash covers every byte).
/// </summary>
internal sealed class PackageStreamReader : IDisposable
{
    private readonly PackageVerificationOptions _options;
    private readonly IPackageStreamTarget _target;
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly Crc32 _crc = Crc32C.CreateIncremental();
    private readonly byte[] _digest = new byte[32];
    private IncrementalHash? _whole;
    private byte[] _headerBuffer = [];
    private int _headerHeld;
    private byte[]? _trailer;
    private int _trailerHeld;
    private int _entry;
    private long _inEntry;
    private long _prefixNeeded;
    private PackageEntry? _resumedEntry;
    private long _total = -1;

    /// <summary>Creates a reader at the start of a package.</summary>
    /// <param name="options">Trust and limits.</param>
    /// <param name="target">Receives what arrives.</param>
    public PackageStreamReader(PackageVerificationOptions options, IPackageStreamTarget target)
    {
        _options = options;
        _target = target;
    }

    /// <summary>The header, once it arrived (or was given to <see cref="Resume"/>).</summary>
    public PackageHeader? Header { get; private set; }

    /// <summary>Bytes of the package read so far.</summary>
    public long Position { get; private set; }

    /// <summary>Whether the whole package arrived and verified.</summary>
    public bool IsComplete { get; private set; }

    /// <summary>
    /// Continues a format-2 package at the end of its header, anywhere in a component body, or after its last byte.
    /// Inside a body the hashes need the body's bytes before <paramref name="offset"/>: the caller feeds exactly
    /// <see cref="PrefixToRestore"/> bytes of it to <see cref="RestorePrefix"/> (read back from where it stored them)
    /// before the stream continues.
    /// </summary>
    /// <param name="header">The header read earlier.</param>
    /// <param name="offset">Where the stream continues.</param>
    /// <param name="total">Bytes in the whole package.</param>
    /// <returns>False when the stream cannot continue there (format 1, or inside the header or the trailer).</returns>
    public bool Resume(PackageHeader header, long offset, long total)
    {
        ArgumentNullException.ThrowIfNull(header);
        if (header.Format != SoftwarePackage.EnvelopedFormatVersion)
        {
            return false;
        }

        if (offset == total)
        {
            // Everything arrived earlier: only the stored trailer is left to verify again (VerifyTrailer).
            (Header, Position, _entry, _total) = (header, offset, header.Entries.Count, total);
            return true;
        }

        var at = (long)header.Length;
        var index = 0;
        while (index < header.Entries.Count && at < offset && at + header.Entries[index].Length <= offset)
        {
            at += header.Entries[index++].Length;
        }

        if (offset < header.Length || offset > header.TrailerOffset || (index == header.Entries.Count && at != offset))
        {
            return false;
        }

        Header = header;
        Position = offset;
        _entry = index;
        _inEntry = offset - at;
        _prefixNeeded = _inEntry;
        _resumedEntry = _inEntry > 0 ? header.Entries[index] : null;
        if (_inEntry == 0)
        {
            SkipEmptyEntries();
        }

        return true;
    }

    /// <summary>The entry the stream continues in, when it continues inside a body (see <see cref="Resume"/>).</summary>
    public PackageEntry? ResumedEntry => _resumedEntry;

    /// <summary>Bytes of <see cref="ResumedEntry"/> still to be fed to <see cref="RestorePrefix"/> before the stream continues.</summary>
    public long PrefixToRestore => _prefixNeeded;

    /// <summary>Feeds the next bytes of the resumed body's prefix to its hashes (nothing reaches the target).</summary>
    /// <param name="data">The bytes, in order.</param>
    /// <exception cref="InvalidOperationException">More bytes than <see cref="PrefixToRestore"/>.</exception>
    public void RestorePrefix(ReadOnlySpan<byte> data)
    {
        if (data.Length > PrefixToRestore)
        {
            throw new InvalidOperationException($"The resumed body needs {PrefixToRestore} more prefix bytes, not {data.Length}.");
        }

        _sha.AppendData(data);
        _crc.Append(data);
        _prefixNeeded -= data.Length;
    }

    /// <summary>Called when the source says how large the package is.</summary>
    /// <param name="total">Bytes in the whole package.</param>
    /// <exception cref="PackageRejectedException">Too large, or too short for its header.</exception>
    public void Begin(long total)
    {
        if (total > _options.MaxPackageSize)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"{total} bytes exceeds the limit of {_options.MaxPackageSize}.");
        }

        _total = total;
        Header?.CheckTotal(total, _options);
    }

    /// <summary>Reads the next bytes of the package.</summary>
    /// <param name="data">The bytes.</param>
    /// <exception cref="PackageRejectedException">The package is not acceptable.</exception>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (_total < 0 || Position + data.Length > _total)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"The source sent more than the {_total} bytes it announced.");
        }

        if (PrefixToRestore > 0)
        {
            throw new InvalidOperationException($"The resumed body still needs {PrefixToRestore} prefix bytes (RestorePrefix) before the stream continues.");
        }

        while (!data.IsEmpty)
        {
            var used = Header is null ? ReadHeader(data) : Position < Header.TrailerOffset ? ReadBody(data) : ReadTrailer(data);
            data = data[used..];
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sha.Dispose();
        _whole?.Dispose();
    }

    private int ReadHeader(ReadOnlySpan<byte> data)
    {
        var n = Math.Min(data.Length, PackageHeader.MaxStreamedHeaderSize - _headerHeld);
        if (n == 0)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"The header exceeds {PackageHeader.MaxStreamedHeaderSize} bytes.");
        }

        if (_headerBuffer.Length < _headerHeld + n)
        {
            Array.Resize(ref _headerBuffer, Math.Min(PackageHeader.MaxStreamedHeaderSize, Math.Max(_headerHeld + n, 2 * _headerBuffer.Length)));
        }

        data[..n].CopyTo(_headerBuffer.AsSpan(_headerHeld));
        _headerHeld += n;
        var header = PackageHeader.TryParse(_headerBuffer.AsSpan(0, _headerHeld), _options);
        if (header is null)
        {
            Position += n;
            return n;
        }

        header.CheckTotal(_total, _options);
        if (header.Format == SoftwarePackage.FormatVersion)
        {
            _whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            _whole.AppendData(header.Bytes);
        }

        // Only the header's own bytes are consumed here; the rest of this chunk is body.
        var used = n - (_headerHeld - header.Length);
        Position += used;
        _headerBuffer = [];
        Header = header;
        _target.OnHeader(header);
        SkipEmptyEntries();
        return used;
    }

    private int ReadBody(ReadOnlySpan<byte> data)
    {
        var entry = Header!.Entries[_entry];
        var n = (int)Math.Min(data.Length, entry.Length - _inEntry);
        var part = data[..n];
        _sha.AppendData(part);
        _crc.Append(part);
        _whole?.AppendData(part);
        _target.OnComponentBytes(entry, part);
        _inEntry += n;
        Position += n;
        if (_inEntry == entry.Length)
        {
            EndEntry(entry);
            SkipEmptyEntries();
        }

        return n;
    }

    private void EndEntry(PackageEntry entry)
    {
        var crc = _crc.GetCurrentHashAsUInt32();
        _crc.Reset();
        _sha.GetHashAndReset(_digest);
        if (crc != entry.Crc || !_digest.AsSpan().SequenceEqual(entry.Component.Sha256))
        {
            throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, $"Entry '{entry.Name}' does not match its SGC CRC/SHA-256.");
        }

        _entry++;
        (_inEntry, _resumedEntry) = (0, null);
        _target.OnComponentVerified(entry, Position);
    }

    private void SkipEmptyEntries()
    {
        while (Header is not null && _entry < Header.Entries.Count && Header.Entries[_entry].Length == 0 && _inEntry == 0)
        {
            EndEntry(Header.Entries[_entry]);
        }
    }

    private int ReadTrailer(ReadOnlySpan<byte> data)
    {
        _trailer ??= new byte[_total - Header!.TrailerOffset];
        var n = Math.Min(data.Length, _trailer.Length - _trailerHeld);
        data[..n].CopyTo(_trailer.AsSpan(_trailerHeld));
        _trailerHeld += n;
        Position += n;
        if (_trailerHeld == _trailer.Length)
        {
            VerifyTrailer(_trailer);
            IsComplete = true;
            _target.OnSigned(_trailer);
        }

        return n;
    }

    /// <summary>Verifies a complete trailer against the header (also used when a resumed install re-reads a stored one).</summary>
    /// <param name="trailer">The trailer bytes.</param>
    /// <exception cref="PackageRejectedException">The signature does not verify, or signs another manifest.</exception>
    public void VerifyTrailer(ReadOnlySpan<byte> trailer)
    {
        var header = Header ?? throw new InvalidOperationException("No header yet.");
        if (header.Format == SoftwarePackage.EnvelopedFormatVersion)
        {
            if (trailer.Length < 9 || BinaryPrimitives.ReadUInt32LittleEndian(trailer[^4..]) != SoftwarePackage.EnvelopeTrailerMagic
                || BinaryPrimitives.ReadUInt32LittleEndian(trailer[^8..]) != trailer.Length - 8)
            {
                throw new PackageRejectedException(PackageRejectReason.Truncated, "The envelope trailer is missing or does not fit the package.");
            }

            var manifest = PackageEnvelope.Verify(trailer[..^8], _options.Trust);
            if (!manifest.SgcBytes.AsSpan().SequenceEqual(header.SgcBytes))
            {
                throw new PackageRejectedException(PackageRejectReason.BadSignature, "The header's SGC file is not the one the envelope signs.");
            }

            return;
        }

        if (_whole is null || BinaryPrimitives.ReadUInt32LittleEndian(trailer[^4..]) != SoftwarePackage.TrailerMagic || BinaryPrimitives.ReadUInt16LittleEndian(trailer[^6..]) != 64)
        {
            throw new PackageRejectedException(PackageRejectReason.Truncated, "The signature trailer is missing.");
        }

        var hash = _whole.GetHashAndReset();
        if (!SoftwarePackage.HashSignedByTrustedKey(hash, trailer[..64], _options.TrustedKeys))
        {
            throw new PackageRejectedException(PackageRejectReason.BadSignature, "The signature does not verify with any trusted key.");
        }
    }
}

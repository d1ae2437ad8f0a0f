using System.Buffers.Binary;
using System.Security.Cryptography;
using Flash.Ffs.Format;
using Flash.Svm.Sgc;

namespace Flash.Svm.Packages;

/// <summary>Limits and trust anchors used when a package is opened.</summary>
public sealed class PackageVerificationOptions
{
    /// <summary>Trusted ECDSA P-256 public keys (SubjectPublicKeyInfo DER). A package must be signed by one of them.</summary>
    public IReadOnlyList<byte[]> TrustedKeys { get; init; } = [];

    /// <summary>Trusted keys (by key id) and revocations for format-2 packages, whose manifest is a COSE_Sign1 envelope.</summary>
    public PackageTrust Trust { get; init; } = new();

    /// <summary>Releases older than this are rejected (anti-rollback).</summary>
    public SoftwareVersion AntiRollbackFloor { get; init; }

    /// <summary>Largest accepted component.</summary>
    public long MaxEntrySize { get; init; } = 64L << 20;

    /// <summary>Largest accepted package.</summary>
    public long MaxPackageSize { get; init; } = 256L << 20;
}

/// <summary>
/// A signed software release: its SGC file and every component file it lists.
/// Layout (little-endian, see <c>docs/sgc.md</c>): header with entry table and SGC file, CRC-32C of the header,
/// the component bodies, then an ECDSA P-256/SHA-256 signature over everything before it.
/// </summary>
public sealed partial class SoftwarePackage
{
    /// <summary>Magic number <c>SVMP</c>.</summary>
    public const uint Magic = 0x504D5653;

    /// <summary>Magic number <c>SVMS</c> at the very end of a package.</summary>
    public const uint TrailerMagic = 0x534D5653;

    /// <summary>Package format version.</summary>
    public const ushort FormatVersion = 1;

    private const int SignatureSize = 64;
    private const int TrailerSize = SignatureSize + 2 + 4;

    private readonly Dictionary<string, ReadOnlyMemory<byte>> _entries;

    private SoftwarePackage(SgcFile sgc, byte[] sgcBytes, Dictionary<string, ReadOnlyMemory<byte>> entries, bool isDelta = false)
    {
        IsDelta = isDelta;
        Sgc = sgc;
        SgcBytes = sgcBytes;
        _entries = entries;
    }

    /// <summary>The SGC file of the release.</summary>
    public SgcFile Sgc { get; }

    /// <summary>The SGC file as stored.</summary>
    public ReadOnlyMemory<byte> SgcBytes { get; }

    /// <summary>The release version.</summary>
    public SoftwareVersion Release => Sgc.Release;

    /// <summary>The content of a component.</summary>
    /// <param name="name">Component name.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="KeyNotFoundException">Not in the package.</exception>
    public ReadOnlyMemory<byte> Component(string name) => _entries[name];

    /// <summary>Builds and signs a package.</summary>
    /// <param name="release">Release version.</param>
    /// <param name="components">Component name, version, content and programmable-device target.</param>
    /// <param name="mappings">Component-to-module mappings.</param>
    /// <param name="signingKey">An ECDSA P-256 private key.</param>
    /// <param name="securityCounter">The release's anti-rollback security counter (see <see cref="SgcFile.SecurityCounter"/>); derived from the release when null.</param>
    /// <returns>The package file.</returns>
    public static byte[] Build(SoftwareVersion release, IEnumerable<PackageComponent> components, IEnumerable<SgcMapping> mappings, ECDsa signingKey, ulong? securityCounter = null)
    {
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(signingKey);
        var list = components.ToList();
        var sgc = new SgcFile(release, list.Select(c => SgcComponent.Describe(c.Name, c.Version, c.Content.Span, c.DeviceKind, c.DeviceName)).ToList(), mappings.ToList(), securityCounter);
        return BuildRaw(release, list.Select(c => (c.Name, c.Content)).ToList(), sgc.ToBytes(), signingKey);
    }

    /// <summary>Builds a package from raw parts (tests use it to craft malformed packages).</summary>
    internal static byte[] BuildRaw(SoftwareVersion release, IReadOnlyList<(string Name, ReadOnlyMemory<byte> Content)> entries, byte[] sgcBytes, ECDsa? signingKey, Func<byte[], byte[]>? tamperBeforeSigning = null)
    {
        byte[] header;
        var w = LittleEndianWriter.Growable(64 + sgcBytes.Length + (entries.Count * 64));
        try
        {
            w.U32(Magic);
            w.U16(FormatVersion);
            w.U16(0);
            w.Version(release);
            w.U32((uint)entries.Count);
            w.U32((uint)sgcBytes.Length);
            long offset = 0;
            foreach (var (name, content) in entries)
            {
                w.Utf8WithLength16(name);
                w.U64((ulong)offset);
                w.U64((ulong)content.Length);
                w.U32(Crc32C.Compute(content.Span));
                offset += content.Length;
            }

            w.U64((ulong)offset);
            w.Bytes(sgcBytes);
            w.AppendCrc32C();
            header = w.Written.ToArray();
        }
        finally
        {
            w.Dispose();
        }

        using var ms = new MemoryStream();
        ms.Write(header);
        foreach (var (_, content) in entries)
        {
            ms.Write(content.Span);
        }

        var signed = ms.ToArray();
        if (tamperBeforeSigning is not null)
        {
            signed = tamperBeforeSigning(signed);
        }

        byte[] sig = signingKey is null ? new byte[SignatureSize] : signingKey.SignData(signed, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        var result = new byte[signed.Length + TrailerSize];
        signed.CopyTo(result, 0);
        sig.CopyTo(result, signed.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(result.AsSpan(signed.Length + SignatureSize), SignatureSize);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(signed.Length + SignatureSize + 2), TrailerMagic);
        return result;
    }

    /// <summary>
    /// Opens a package and checks everything: format, size limits, signature, header and entry checksums, entry names,
    /// agreement with the SGC file and the anti-rollback floor. Nothing is written anywhere.
    /// </summary>
    /// <param name="package">The package file.</param>
    /// <param name="options">Trusted keys and limits.</param>
    /// <returns>The verified package.</returns>
    /// <exception cref="PackageRejectedException">The package is not acceptable.</exception>
    public static SoftwarePackage Open(ReadOnlyMemory<byte> package, PackageVerificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var span = package.Span;
        if (package.Length > options.MaxPackageSize)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"{package.Length} bytes exceeds the limit of {options.MaxPackageSize}.");
        }

        if (span.Length < 8 || BinaryPrimitives.ReadUInt32LittleEndian(span) != Magic)
        {
            throw new PackageRejectedException(PackageRejectReason.BadFormat, "Not a software package.");
        }

        var format = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
        VerifiedManifest? manifest = null;
        ReadOnlySpan<byte> signed;
        if (format == EnvelopedFormatVersion)
        {
            signed = span[..VerifyEnvelopeTrailer(span, options.Trust, out manifest)];
        }
        else
        {
            if (span.Length < TrailerSize + 32 || BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]) != TrailerMagic
                || BinaryPrimitives.ReadUInt16LittleEndian(span[^6..]) != SignatureSize)
            {
                throw new PackageRejectedException(PackageRejectReason.Truncated, "The signature trailer is missing.");
            }

            signed = span[..^TrailerSize];
            var signature = span.Slice(signed.Length, SignatureSize);
            if (!SignedByTrustedKey(signed, signature, options.TrustedKeys))
            {
                throw new PackageRejectedException(PackageRejectReason.BadSignature, "The signature does not verify with any trusted key.");
            }
        }

        // Header.
        SoftwareVersion release;
        var table = new List<(string Name, long Offset, long Length, uint Crc)>();
        byte[] sgcBytes;
        int headerLength;
        long dataLength;
        ushort flags;
        try
        {
            var r = new LittleEndianReader(signed, static () => new SvmFormatException("Unexpected end of data or malformed text."));
            r.U32();
            if (r.U16() is not (FormatVersion or EnvelopedFormatVersion))
            {
                throw new PackageRejectedException(PackageRejectReason.BadFormat, "Unsupported package format version.");
            }

            flags = r.U16();
            if ((flags & ~DeltaFlag) != 0)
            {
                throw new PackageRejectedException(PackageRejectReason.BadFormat, $"Unknown package flags 0x{flags:X4}.");
            }

            release = r.Version();
            uint count = r.U32();
            uint sgcLength = r.U32();
            if (count > 4096 || sgcLength > 16 << 20)
            {
                throw new PackageRejectedException(PackageRejectReason.BadFormat, "Header counts out of range.");
            }

            for (int i = 0; i < count; i++)
            {
                table.Add((r.Utf8WithLength16(), (long)r.U64(), (long)r.U64(), r.U32()));
            }

            dataLength = (long)r.U64();
            sgcBytes = r.Bytes((int)sgcLength).ToArray();
            headerLength = r.Position + 4;
            uint crc = r.U32();
            if (crc != Crc32C.Compute(signed[..(headerLength - 4)]))
            {
                throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, "Header checksum mismatch.");
            }
        }
        catch (SvmFormatException ex)
        {
            throw new PackageRejectedException(PackageRejectReason.Truncated, "Header: " + ex.Message);
        }

        if (dataLength < 0 || headerLength + dataLength != signed.Length)
        {
            throw new PackageRejectedException(PackageRejectReason.Truncated, $"Body holds {signed.Length - headerLength} bytes, header declares {dataLength}.");
        }

        SgcFile sgc;
        try
        {
            sgc = SgcFile.Parse(sgcBytes);
        }
        catch (SvmFormatException ex)
        {
            throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, "SGC file: " + ex.Message);
        }

        if (manifest is not null && !manifest.SgcBytes.AsSpan().SequenceEqual(sgcBytes))
        {
            throw new PackageRejectedException(PackageRejectReason.BadSignature, "The header's SGC file is not the one the envelope signs.");
        }

        if (sgc.Release != release)
        {
            throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Header release {release} differs from SGC release {sgc.Release}.");
        }

        if (sgc.Components.Count == 0)
        {
            throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Release {release} has no components; a node cannot boot it.");
        }

        if (release < options.AntiRollbackFloor)
        {
            throw new PackageRejectedException(PackageRejectReason.Rollback, $"Release {release} is older than the anti-rollback floor {options.AntiRollbackFloor}.");
        }

        var entries = new Dictionary<string, ReadOnlyMemory<byte>>(StringComparer.Ordinal);
        var body = package.Slice(headerLength, (int)dataLength);
        foreach (var (name, offset, length, crc) in table)
        {
            if (!SgcFile.IsValidName(name))
            {
                throw new PackageRejectedException(PackageRejectReason.PathEscape, $"Entry name '{name}' escapes the package or is not a plain file name.");
            }

            if (length > options.MaxEntrySize || length < 0)
            {
                throw new PackageRejectedException(PackageRejectReason.Oversized, $"Entry '{name}' is {length} bytes, limit {options.MaxEntrySize}.");
            }

            if (offset < 0 || offset + length > dataLength)
            {
                throw new PackageRejectedException(PackageRejectReason.Truncated, $"Entry '{name}' lies outside the body.");
            }

            var content = body.Slice((int)offset, (int)length);
            if (Crc32C.Compute(content.Span) != crc)
            {
                throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, $"Entry '{name}' checksum mismatch.");
            }

            var component = sgc.Find(name) ?? throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Entry '{name}' is not listed in the SGC file.");
            if (!component.Matches(content.Span))
            {
                throw new PackageRejectedException(PackageRejectReason.ChecksumMismatch, $"Entry '{name}' does not match its SGC size/CRC/SHA-256.");
            }

            if (!entries.TryAdd(name, content))
            {
                throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Entry '{name}' appears twice.");
            }
        }

        var isDelta = (flags & DeltaFlag) != 0;
        foreach (var c in sgc.Components)
        {
            // A delta package may leave out components; the upgrade copies them from the current context (and refuses
            // the package if one of them is not there unchanged).
            if (!isDelta && !entries.ContainsKey(c.Name))
            {
                throw new PackageRejectedException(PackageRejectReason.Inconsistent, $"Component '{c.Name}' is listed in the SGC file but missing from the package.");
            }
        }

        return new SoftwarePackage(sgc, sgcBytes, entries, isDelta);
    }

    /// <summary>Whether a format-1 signature verifies over a SHA-256 hash computed as the package streamed.</summary>
    internal static bool HashSignedByTrustedKey(ReadOnlySpan<byte> sha256, ReadOnlySpan<byte> signature, IReadOnlyList<byte[]> keys)
    {
        foreach (var key in keys)
        {
            using var ecdsa = ECDsa.Create();
            try
            {
                ecdsa.ImportSubjectPublicKeyInfo(key, out _);
            }
            catch (CryptographicException)
            {
                continue;
            }

            if (ecdsa.KeySize == 256 && ecdsa.VerifyHash(sha256, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return true;
            }
        }

        return false;
    }

    private static bool SignedByTrustedKey(ReadOnlySpan<byte> signed, ReadOnlySpan<byte> signature, IReadOnlyList<byte[]> keys)
    {
        foreach (var key in keys)
        {
            using var ecdsa = ECDsa.Create();
            try
            {
                ecdsa.ImportSubjectPublicKeyInfo(key, out _);
            }
            catch (CryptographicException)
            {
                continue;
            }

            if (ecdsa.KeySize == 256 && ecdsa.VerifyData(signed, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary>A component to put into a package.</summary>
/// <param name="Name">Component name.</param>
/// <param name="Version">Component version.</param>
/// <param name="Content">The file.</param>
/// <param name="DeviceKind">Programmable device kind, if the component programs one.</param>
/// <param name="DeviceName">Programmable device name.</param>
public sealed record PackageComponent(string Name, SoftwareVersion Version, ReadOnlyMemory<byte> Content, ProgrammableDeviceKind DeviceKind = ProgrammableDeviceKind.None, string DeviceName = "");

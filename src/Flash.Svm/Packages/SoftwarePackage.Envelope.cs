using System.Buffers.Binary;
using System.Security.Cryptography;
using Flash.Ffs.Format;
using Flash.Svm.Sgc;

namespace Flash.Svm.Packages;

/// <summary>
/// Format 2: the same header and bodies as format 1, then a COSE_Sign1 envelope over the SGC file instead of the
/// raw signature over everything. The bodies are covered through the SGC's per-component SHA-256, which
/// <see cref="Open"/> checks for every entry, and the header by its CRC and by carrying the signed SGC byte for byte.
/// </summary>
public sealed partial class SoftwarePackage
{
    /// <summary>Format version of packages whose manifest is a COSE_Sign1 envelope.</summary>
    public const ushort EnvelopedFormatVersion = 2;

    /// <summary>Header flag: a delta package, which may leave out components of its SGC file (see <see cref="IsDelta"/>).</summary>
    public const ushort DeltaFlag = 0x0001;

    /// <summary>
    /// Whether this is a delta package: components listed in its SGC file but absent from the package must be
    /// present unchanged (same size, CRC-32C and SHA-256) in the node's current context, which the upgrade copies
    /// them from.
    /// </summary>
    public bool IsDelta { get; }

    /// <summary>Whether the package carries the content of a component.</summary>
    /// <param name="name">Component name.</param>
    /// <returns>True when it does.</returns>
    public bool Contains(string name) => _entries.ContainsKey(name);

    /// <summary>Magic number <c>SVMC</c> at the very end of a format-2 package.</summary>
    public const uint EnvelopeTrailerMagic = 0x434D5653;

    /// <summary>Builds a format-2 package: its manifest (the SGC file) signed in a COSE_Sign1 envelope.</summary>
    /// <param name="release">Release version.</param>
    /// <param name="components">Component name, version, content and programmable-device target.</param>
    /// <param name="mappings">Component-to-module mappings.</param>
    /// <param name="signingKey">An ECDSA P-256 private key.</param>
    /// <param name="keyId">Its key id, as the nodes' <see cref="PackageTrust"/> lists it.</param>
    /// <param name="securityCounter">The release's anti-rollback security counter; derived from the release when null.</param>
    /// <param name="omit">Components listed in the SGC file but left out of the package: a delta package (null or empty: a whole one).</param>
    /// <returns>The package file.</returns>
    public static byte[] BuildEnveloped(SoftwareVersion release, IEnumerable<PackageComponent> components, IEnumerable<SgcMapping> mappings, ECDsa signingKey, ReadOnlySpan<byte> keyId, ulong? securityCounter = null, IReadOnlySet<string>? omit = null)
    {
        ArgumentNullException.ThrowIfNull(components);
        ArgumentNullException.ThrowIfNull(mappings);
        ArgumentNullException.ThrowIfNull(signingKey);
        var list = components.ToList();
        var sgc = new SgcFile(release, list.Select(c => SgcComponent.Describe(c.Name, c.Version, c.Content.Span, c.DeviceKind, c.DeviceName)).ToList(), mappings.ToList(), securityCounter);
        var sgcBytes = sgc.ToBytes();
        // Reuse the format-1 writer for header and bodies, drop its trailer, and stamp format 2 (the header CRC
        // covers the version field, so it is recomputed).
        var included = list.Where(c => omit is null || !omit.Contains(c.Name)).Select(c => (c.Name, c.Content)).ToList();
        var v1 = BuildRaw(release, included, sgcBytes, null);
        var body = v1.AsSpan(0, v1.Length - TrailerSize).ToArray();
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(4), EnvelopedFormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(6), omit is { Count: > 0 } ? DeltaFlag : (ushort)0);
        var headerLength = HeaderLength(body);
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(headerLength - 4), Crc32C.Compute(body.AsSpan(0, headerLength - 4)));
        var envelope = PackageEnvelope.Sign(sgcBytes, signingKey, keyId);
        var result = new byte[body.Length + envelope.Length + 8];
        body.CopyTo(result, 0);
        envelope.CopyTo(result, body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(body.Length + envelope.Length), (uint)envelope.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(body.Length + envelope.Length + 4), EnvelopeTrailerMagic);
        return result;
    }

    /// <summary>Checks the format-2 trailer and its envelope; returns where header and bodies end.</summary>
    private static int VerifyEnvelopeTrailer(ReadOnlySpan<byte> package, PackageTrust trust, out VerifiedManifest manifest)
    {
        if (package.Length < 40 || BinaryPrimitives.ReadUInt32LittleEndian(package[^4..]) != EnvelopeTrailerMagic)
        {
            throw new PackageRejectedException(PackageRejectReason.Truncated, "The envelope trailer is missing.");
        }

        var envelopeLength = BinaryPrimitives.ReadUInt32LittleEndian(package[^8..]);
        if (envelopeLength == 0 || envelopeLength > PackageEnvelope.MaxEnvelopeSize || envelopeLength > package.Length - 40)
        {
            throw new PackageRejectedException(PackageRejectReason.Truncated, $"The envelope length {envelopeLength} does not fit the package.");
        }

        var end = package.Length - 8 - (int)envelopeLength;
        manifest = PackageEnvelope.Verify(package.Slice(end, (int)envelopeLength), trust);
        return end;
    }

    private static int HeaderLength(ReadOnlySpan<byte> package)
    {
        var r = new LittleEndianReader(package, static () => new SvmFormatException("Unexpected end of data or malformed text."));
        r.U32();
        r.U16();
        r.U16();
        r.Version();
        var count = r.U32();
        var sgcLength = r.U32();
        for (var i = 0; i < count; i++)
        {
            r.Utf8WithLength16();
            r.U64();
            r.U64();
            r.U32();
        }

        r.U64();
        r.Bytes((int)sgcLength);
        return r.Position + 4;
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.Cose;
using Flash.Svm.Sgc;

namespace Flash.Svm.Packages;

/// <summary>A public key the node trusts to sign releases, named by its key id.</summary>
/// <param name="KeyId">The key id carried in the envelope's protected <c>kid</c> header (1–64 bytes).</param>
/// <param name="SubjectPublicKeyInfo">The ECDSA P-256 public key, SubjectPublicKeyInfo DER.</param>
public sealed record TrustedSigningKey(byte[] KeyId, byte[] SubjectPublicKeyInfo)
{
    /// <summary>The key id of a public key when the signer names none: the first 16 bytes of SHA-256 over its SubjectPublicKeyInfo.</summary>
    /// <param name="subjectPublicKeyInfo">The key.</param>
    /// <returns>16 bytes.</returns>
    public static byte[] DefaultKeyId(ReadOnlySpan<byte> subjectPublicKeyInfo) => SHA256.HashData(subjectPublicKeyInfo)[..16];
}

/// <summary>
/// The node's trust anchors for release envelopes: several keys at once (so a new key can be rolled out before the
/// old one is retired) and a revocation list of key ids that outranks them.
/// </summary>
public sealed class PackageTrust
{
    /// <summary>Keys that may sign releases.</summary>
    public IReadOnlyList<TrustedSigningKey> Keys { get; init; } = [];

    /// <summary>Key ids that may no longer sign anything, whether or not they are still in <see cref="Keys"/>.</summary>
    public IReadOnlyList<byte[]> RevokedKeyIds { get; init; } = [];

    /// <summary>Whether a key id is revoked.</summary>
    /// <param name="keyId">The key id.</param>
    /// <returns>True when it is on the revocation list.</returns>
    public bool IsRevoked(ReadOnlySpan<byte> keyId)
    {
        foreach (var revoked in RevokedKeyIds)
        {
            if (keyId.SequenceEqual(revoked))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The trusted key with this id, or null.</summary>
    /// <param name="keyId">The key id.</param>
    /// <returns>The key, or null.</returns>
    public TrustedSigningKey? Find(ReadOnlySpan<byte> keyId)
    {
        foreach (var key in Keys)
        {
            if (keyId.SequenceEqual(key.KeyId))
            {
                return key;
            }
        }

        return null;
    }
}

/// <summary>
/// The signed manifest of a release as a COSE_Sign1 message (RFC 9052), ES256, with the signer's key id in the
/// protected header and the SGC file (release, security counter, every component's size, CRC-32C and SHA-256)
/// as the embedded payload. See <c>docs/sgc.md</c> for why COSE and the exact layout.
/// </summary>
public static class PackageEnvelope
{
    /// <summary>Largest accepted envelope; an SGC file is a few KiB.</summary>
    public const int MaxEnvelopeSize = 1 << 20;

    /// <summary>The COSE content type of the payload (protected header 3).</summary>
    public const string ContentType = "application/vnd.flash.sgc";

    /// <summary>Signs a manifest.</summary>
    /// <param name="sgc">The SGC file bytes (the manifest).</param>
    /// <param name="signingKey">ECDSA P-256 private key.</param>
    /// <param name="keyId">Its key id (see <see cref="TrustedSigningKey.DefaultKeyId"/>).</param>
    /// <returns>The COSE_Sign1 message, CBOR-encoded.</returns>
    public static byte[] Sign(ReadOnlySpan<byte> sgc, ECDsa signingKey, ReadOnlySpan<byte> keyId)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        if (keyId.IsEmpty || keyId.Length > 64)
        {
            throw new ArgumentException("A key id is 1 to 64 bytes.", nameof(keyId));
        }

        var protectedHeaders = new CoseHeaderMap
        {
            { CoseHeaderLabel.KeyIdentifier, CoseHeaderValue.FromBytes(keyId) },
            { CoseHeaderLabel.ContentType, CoseHeaderValue.FromString(ContentType) },
        };
        var signer = new CoseSigner(signingKey, HashAlgorithmName.SHA256, protectedHeaders);
        return CoseSign1Message.SignEmbedded(sgc.ToArray(), signer);
    }

    /// <summary>Verifies an envelope against the node's trust and returns the SGC file it carries.</summary>
    /// <param name="envelope">The COSE_Sign1 message.</param>
    /// <param name="trust">Trusted keys and revocations.</param>
    /// <returns>The parsed SGC file, the signed bytes of it, and the key id that signed.</returns>
    /// <exception cref="PackageRejectedException"><see cref="PackageRejectReason.Oversized"/>,
    /// <see cref="PackageRejectReason.BadSignature"/> (malformed, no key id, unknown key, signature does not verify),
    /// <see cref="PackageRejectReason.KeyRevoked"/>, or <see cref="PackageRejectReason.BadFormat"/> (payload not an SGC file).</exception>
    public static VerifiedManifest Verify(ReadOnlySpan<byte> envelope, PackageTrust trust)
    {
        ArgumentNullException.ThrowIfNull(trust);
        if (envelope.Length > MaxEnvelopeSize)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"the envelope is {envelope.Length} bytes, over {MaxEnvelopeSize}.");
        }

        CoseSign1Message message;
        try
        {
            message = CoseMessage.DecodeSign1(envelope);
        }
        catch (CryptographicException e)
        {
            throw new PackageRejectedException(PackageRejectReason.BadSignature, $"the envelope is not a COSE_Sign1 message ({e.Message}).");
        }

        if (!message.ProtectedHeaders.TryGetValue(CoseHeaderLabel.KeyIdentifier, out var kidValue))
        {
            throw new PackageRejectedException(PackageRejectReason.BadSignature, "the envelope names no key id in its protected header.");
        }

        var keyId = kidValue.GetValueAsBytes();
        var kidText = Convert.ToHexString(keyId);
        // Revocation is checked first: a revoked key stays refused even while it is still listed as trusted.
        if (trust.IsRevoked(keyId))
        {
            throw new PackageRejectedException(PackageRejectReason.KeyRevoked, $"key {kidText} is revoked.");
        }

        var key = trust.Find(keyId) ?? throw new PackageRejectedException(PackageRejectReason.BadSignature, $"key {kidText} is not trusted.");
        using var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportSubjectPublicKeyInfo(key.SubjectPublicKeyInfo, out _);
            if (message.Content is not { } payload || !message.VerifyEmbedded(ecdsa))
            {
                throw new PackageRejectedException(PackageRejectReason.BadSignature, $"the signature does not verify with key {kidText}.");
            }

            var sgcBytes = payload.ToArray();
            return new VerifiedManifest(SgcFile.Parse(sgcBytes), sgcBytes, keyId);
        }
        catch (CryptographicException e)
        {
            throw new PackageRejectedException(PackageRejectReason.BadSignature, $"the signature cannot be checked with key {kidText} ({e.Message}).");
        }
        catch (SvmFormatException e)
        {
            throw new PackageRejectedException(PackageRejectReason.BadFormat, $"the signed payload is not an SGC file ({e.Message}).");
        }
    }
}

/// <summary>A manifest whose envelope verified.</summary>
/// <param name="Sgc">The SGC file: release, security counter, component digests.</param>
/// <param name="SgcBytes">Its signed bytes.</param>
/// <param name="KeyId">The key id that signed it.</param>
public sealed record VerifiedManifest(SgcFile Sgc, byte[] SgcBytes, byte[] KeyId);

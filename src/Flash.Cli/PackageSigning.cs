using System.Buffers.Binary;
using System.Security.Cryptography;
using Flash.Svm.Packages;

namespace Flash.Cli;

/// <summary>
/// Keys and signatures of software packages. A package ends with a 70-byte trailer: the 64-byte ECDSA P-256
/// signature (IEEE P1363) over every byte before the trailer, its length (u16 = 64) and the magic <c>SVMS</c>
/// (docs/sgc.md). Signing therefore replaces the first 64 trailer bytes and leaves everything else as it is.
/// </summary>
public static class PackageSigning
{
    /// <summary>Bytes of the trailer.</summary>
    public const int TrailerSize = SignatureSize + 2 + 4;

    private const int SignatureSize = 64;

    /// <summary>Signs (or re-signs) a package in place.</summary>
    /// <param name="package">The package; its signature bytes are replaced.</param>
    /// <param name="key">An ECDSA P-256 private key.</param>
    /// <exception cref="CliException">The bytes do not end with a package trailer, or the key is not P-256.</exception>
    public static void Sign(byte[] package, ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(package);
        ArgumentNullException.ThrowIfNull(key);
        CheckTrailer(package);
        if (key.KeySize != 256)
        {
            throw new CliException(ExitCodes.Usage, $"The key is ECDSA with {key.KeySize} bits; packages are signed with P-256.");
        }

        int signed = package.Length - TrailerSize;
        key.SignData(package.AsSpan(0, signed), package.AsSpan(signed, SignatureSize), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    /// <summary>Clears a package's signature (an unsigned package: every trusted-key check rejects it).</summary>
    /// <param name="package">The package.</param>
    public static void Unsign(byte[] package)
    {
        ArgumentNullException.ThrowIfNull(package);
        CheckTrailer(package);
        package.AsSpan(package.Length - TrailerSize, SignatureSize).Clear();
    }

    /// <summary>Whether the package's signature is all zero (never signed).</summary>
    /// <param name="package">The package.</param>
    /// <returns>True when unsigned.</returns>
    public static bool IsUnsigned(ReadOnlySpan<byte> package)
        => package.Length >= TrailerSize && !package.Slice(package.Length - TrailerSize, SignatureSize).ContainsAnyExcept((byte)0);

    /// <summary>Reads a private key from PEM (PKCS#8 or SEC1).</summary>
    /// <param name="path">The key file.</param>
    /// <returns>The key.</returns>
    public static ECDsa LoadPrivateKey(string path)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            _ = key.ExportParameters(includePrivateParameters: true);
            return key;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new CliException(ExitCodes.Usage, $"'{path}' is not an ECDSA private key in PEM: {ex.Message}");
        }
    }

    /// <summary>Reads a public key (SubjectPublicKeyInfo) from PEM or DER, or takes it from a private key file.</summary>
    /// <param name="path">The key file.</param>
    /// <returns>The SubjectPublicKeyInfo DER bytes <see cref="PackageVerificationOptions.TrustedKeys"/> wants.</returns>
    public static byte[] LoadPublicKey(string path)
    {
        var bytes = File.ReadAllBytes(path);
        using var key = ECDsa.Create();
        try
        {
            if (bytes.Length > 0 && bytes[0] == (byte)'-')
            {
                key.ImportFromPem(System.Text.Encoding.ASCII.GetString(bytes));
            }
            else
            {
                key.ImportSubjectPublicKeyInfo(bytes, out _);
            }

            return key.ExportSubjectPublicKeyInfo();
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            throw new CliException(ExitCodes.Usage, $"'{path}' is not an ECDSA public key (PEM or DER): {ex.Message}");
        }
    }

    private static void CheckTrailer(ReadOnlySpan<byte> package)
    {
        if (package.Length < TrailerSize + 8 || BinaryPrimitives.ReadUInt32LittleEndian(package) != SoftwarePackage.Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(package[^4..]) != SoftwarePackage.TrailerMagic
            || BinaryPrimitives.ReadUInt16LittleEndian(package[^6..]) != SignatureSize)
        {
            throw new CliException(ExitCodes.PackageRejected, "Not a software package (no SVMP header or SVMS signature trailer).");
        }
    }
}

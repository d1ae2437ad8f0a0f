using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Flash.Svm.Management.Grpc;

/// <summary>Loads the gNOI server's TLS material from files: the server certificate (PEM + key, or PKCS#12) and the client CAs (PEM).</summary>
public static class GnoiCertificates
{
    /// <summary>Loads the server certificate with its private key.</summary>
    /// <param name="certificatePath">A PEM certificate (then <paramref name="keyPath"/> names its PEM key, or the key follows the certificate in the same file) or a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>).</param>
    /// <param name="keyPath">The PEM private key (PEM certificates only; null: the key is in <paramref name="certificatePath"/>).</param>
    /// <param name="password">The PKCS#12 password (null: none).</param>
    /// <returns>The certificate, with a private key usable by Kestrel's TLS.</returns>
    /// <exception cref="CryptographicException">The files do not hold a certificate with a matching private key.</exception>
    public static X509Certificate2 LoadServer(string certificatePath, string? keyPath = null, string? password = null)
    {
        ArgumentNullException.ThrowIfNull(certificatePath);
        X509Certificate2 cert;
        if (IsPkcs12(certificatePath))
        {
            cert = X509CertificateLoader.LoadPkcs12FromFile(certificatePath, password);
        }
        else
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
            // Through PKCS#12: a PEM key is ephemeral, which TLS stacks on some platforms cannot use.
            cert = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }

        if (!cert.HasPrivateKey)
        {
            cert.Dispose();
            throw new CryptographicException($"{certificatePath} holds no private key for the server certificate.");
        }

        return cert;
    }

    /// <summary>Loads the CAs client certificates must chain to.</summary>
    /// <param name="pemPath">A PEM file with one or more CA certificates.</param>
    /// <returns>The CAs.</returns>
    /// <exception cref="CryptographicException">The file holds no certificate.</exception>
    public static X509Certificate2Collection LoadAuthorities(string pemPath)
    {
        ArgumentNullException.ThrowIfNull(pemPath);
        var all = new X509Certificate2Collection();
        all.ImportFromPemFile(pemPath);
        return all.Count > 0 ? all : throw new CryptographicException($"{pemPath} holds no PEM certificate.");
    }

    private static bool IsPkcs12(string path)
        => path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase);
}

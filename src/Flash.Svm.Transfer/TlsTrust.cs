using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Flash.Svm.Transfer;

/// <summary>
/// Server-certificate validation for HTTPS and FTPS: the system store by default, or only the private roots in
/// <see cref="TransferOptions.TrustedRoots"/>. A name mismatch or a missing certificate is fatal either way.
/// </summary>
/// <param name="trustedRoots">Private roots (empty: the system store).</param>
internal sealed class TlsTrust(X509Certificate2Collection trustedRoots)
{
    public bool UsesPrivateRoots => trustedRoots.Count > 0;

    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (!UsesPrivateRoots)
        {
            return errors == SslPolicyErrors.None;
        }

        // Only chain building is redone, against the private roots instead of the system store.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(trustedRoots);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return custom.Build(leaf);
    }

    /// <summary>Client options for a TLS session with <paramref name="host"/>.</summary>
    public SslClientAuthenticationOptions ClientOptions(string host) => new()
    {
        TargetHost = host,
        RemoteCertificateValidationCallback = Validate,
    };
}

using System.Security.Cryptography.X509Certificates;

namespace Flash.Svm.Transfer;

/// <summary>Settings shared by the transfer clients.</summary>
public sealed class TransferOptions
{
    /// <summary>TLS roots trusted instead of the system store (a private CA). Empty: the system store.</summary>
    public X509Certificate2Collection TrustedRoots { get; init; } = [];

    /// <summary>
    /// SSH host keys trusted for SFTP, by <c>host:port</c>, as OpenSSH prints them (<c>ssh-keygen -lf key.pub -E sha256</c>:
    /// <c>SHA256:</c> and unpadded base64). A server without a pin here is refused: there is no trust on first use.
    /// </summary>
    public IReadOnlyDictionary<string, string> PinnedHostKeys { get; init; } = new Dictionary<string, string>();

    /// <summary>OpenSSH or PEM private key for SFTP public-key login (used before the password when set). A secret: never logged.</summary>
    public string? SshPrivateKey { get; init; }

    /// <summary>Longest wait for a connection to be established.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Longest time without a byte from the server before the attempt counts as interrupted.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Size of the one receive buffer per attempt (rented, returned after the attempt).</summary>
    public int BufferSize { get; init; } = 64 * 1024;

    /// <summary>Attempts per download before a transient failure becomes final.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>Pause before the second attempt; doubled for each further one.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);
}

using System.Globalization;

namespace Flash.Svm.Transfer;

/// <summary>
/// Where a package lives on a file server: <c>scheme://[user@]host[:port]/path</c>. A password inside the URL is
/// refused (credentials travel separately in <see cref="TransferCredentials"/>), and <see cref="ToString"/> never shows
/// the user part, so a URL can go into any log line, event or exception message as it is.
/// </summary>
public sealed class TransferUrl
{
    private TransferUrl(string scheme, string host, int port, string path, string? user)
    {
        Scheme = scheme;
        Host = host;
        Port = port;
        Path = path;
        User = user;
    }

    /// <summary>The scheme, lower case: <c>http</c>, <c>https</c>, <c>ftp</c>, <c>ftps</c> (explicit TLS) or <c>sftp</c>.</summary>
    public string Scheme { get; }

    /// <summary>Host name or address (IPv6 without brackets).</summary>
    public string Host { get; }

    /// <summary>TCP port (the scheme's default when the URL names none).</summary>
    public int Port { get; }

    /// <summary>Absolute path on the server, percent-decoded, starting with <c>/</c>.</summary>
    public string Path { get; }

    /// <summary>User named in the URL, if any (credentials given separately take precedence).</summary>
    public string? User { get; }

    /// <summary>The schemes this library can fetch from.</summary>
    public static IReadOnlyList<string> SupportedSchemes { get; } = ["http", "https", "ftp", "ftps", "sftp"];

    /// <summary>Parses a transfer URL.</summary>
    /// <param name="text">The URL text.</param>
    /// <returns>The parsed URL.</returns>
    /// <exception cref="TransferUrlException">The text is not an absolute URL of a supported scheme, has no host or
    /// path, or carries a password (the message never repeats the URL's user-info part).</exception>
    public static TransferUrl Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new TransferUrlException("the transfer parameters are not an absolute URL.");
        }

        var scheme = uri.Scheme.ToLowerInvariant();
        if (!SupportedSchemes.Contains(scheme))
        {
            throw new TransferUrlException($"scheme '{scheme}' is not supported (use {string.Join(", ", SupportedSchemes)}).");
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            throw new TransferUrlException("the URL names no host.");
        }

        string? user = null;
        if (uri.UserInfo.Length > 0)
        {
            if (uri.UserInfo.Contains(':', StringComparison.Ordinal))
            {
                // Say nothing of the user-info itself: it holds the secret.
                throw new TransferUrlException("the URL carries a password; give credentials separately.");
            }

            user = Uri.UnescapeDataString(uri.UserInfo);
        }

        var path = Uri.UnescapeDataString(uri.AbsolutePath);
        if (path.Length <= 1 || path.EndsWith('/'))
        {
            throw new TransferUrlException("the URL names no file.");
        }

        if (path.Contains('\r', StringComparison.Ordinal) || path.Contains('\n', StringComparison.Ordinal) || path.Contains('\0', StringComparison.Ordinal))
        {
            throw new TransferUrlException("the path contains control characters.");
        }

        var host = uri.HostNameType == UriHostNameType.IPv6 ? uri.Host.Trim('[', ']') : uri.Host;
        // System.Uri knows no default port for sftp or ftps (explicit FTPS, RFC 4217, runs on the FTP port).
        var port = uri.Port > 0 ? uri.Port : scheme == "ftps" ? 21 : 22;
        return new TransferUrl(scheme, host, port, path, user);
    }

    /// <summary>The URL without any user-info, safe to log.</summary>
    /// <returns>For example <c>ftp://192.0.2.1:2121/pkg/r2.pkg</c>.</returns>
    public override string ToString()
    {
        var host = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}://{host}:{Port}{Uri.EscapeDataString(Path).Replace("%2F", "/", StringComparison.Ordinal)}");
    }

    /// <summary>The URL as a <see cref="Uri"/> without user-info (HTTP requests use it).</summary>
    /// <returns>The request URI.</returns>
    public Uri ToRequestUri() => new(ToString());
}

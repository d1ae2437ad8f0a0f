using Flash.Svm.Packages;

namespace Flash.Svm.Management.Tl1;

/// <summary>
/// Maps the <c>SRC</c> of COPY-RFILE to Flash.Svm's <see cref="TransferParameters"/>, which pick the software source by
/// kind: <c>file:///abs/path</c> → (<c>file</c>, <c>/abs/path</c>); <c>dir:name</c> and <c>mem:name</c> → (kind, name);
/// any other URL scheme (<c>ftp</c>, <c>http</c>, <c>https</c>, <c>sftp</c>, …) → (scheme, the URL without its
/// credentials, user, password) so network sources registered in <see cref="SvmOptions.Sources"/> under that kind serve it.
/// </summary>
public static class TransferUri
{
    /// <summary>Parses a source.</summary>
    /// <param name="src">The SRC value.</param>
    /// <returns>The transfer parameters.</returns>
    /// <exception cref="Tl1Exception"><c>IDNV</c> when the source is not a URL or kind:path.</exception>
    public static TransferParameters Parse(string src)
    {
        ArgumentNullException.ThrowIfNull(src);
        int colon = src.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == src.Length - 1)
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, "SRC must be a URL or kind:path");
        }

        var kind = src[..colon].ToLowerInvariant();
        if (!kind.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '-' or '.'))
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, "SRC has a malformed scheme");
        }

        if (!src.AsSpan(colon + 1).StartsWith("//", StringComparison.Ordinal))
        {
            return new TransferParameters(kind, src[(colon + 1)..]);
        }

        if (!Uri.TryCreate(src, UriKind.Absolute, out var uri))
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, "SRC is not a valid URL");
        }

        if (kind == "file")
        {
            return new TransferParameters("file", Uri.UnescapeDataString(uri.AbsolutePath));
        }

        string? user = null;
        string? password = null;
        if (uri.UserInfo.Length > 0)
        {
            var ui = uri.UserInfo.Split(':', 2);
            user = Uri.UnescapeDataString(ui[0]);
            password = ui.Length > 1 ? Uri.UnescapeDataString(ui[1]) : null;
        }

        var clean = new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString();
        return new TransferParameters(kind, clean, user, password);
    }
}

namespace Flash.Svm.Transfer;

/// <summary>
/// Removes secrets from text that came from somewhere else (a server's reply, a library's exception message)
/// before it reaches a log line or an exception of ours.
/// </summary>
public static class Redaction
{
    /// <summary>What a removed secret is replaced by.</summary>
    public const string Mask = "<redacted>";

    /// <summary>Replaces every occurrence of the password and of the user name in <paramref name="text"/>.</summary>
    /// <param name="text">Untrusted text.</param>
    /// <param name="credentials">The secrets to remove (null: nothing to remove).</param>
    /// <returns>The text without the secrets.</returns>
    public static string Scrub(string? text, TransferCredentials? credentials)
    {
        if (string.IsNullOrEmpty(text) || credentials is null)
        {
            return text ?? "";
        }

        if (credentials.Password.Length > 0)
        {
            text = text.Replace(credentials.Password, Mask, StringComparison.Ordinal);
        }

        return text.Replace(credentials.User, Mask, StringComparison.Ordinal);
    }
}

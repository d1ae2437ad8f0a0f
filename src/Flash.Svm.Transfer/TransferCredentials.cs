namespace Flash.Svm.Transfer;

/// <summary>
/// User and password for a file server, kept apart from the URL. A class, not a record, so that no generated
/// formatting member prints the password; <see cref="ToString"/> shows neither part.
/// </summary>
public sealed class TransferCredentials
{
    /// <summary>Creates credentials.</summary>
    /// <param name="user">User name.</param>
    /// <param name="password">Password or token.</param>
    /// <exception cref="ArgumentException">The user is empty, or either contains a line break (it would split an FTP command).</exception>
    public TransferCredentials(string user, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(user);
        ArgumentNullException.ThrowIfNull(password);
        if (user.AsSpan().IndexOfAny('\r', '\n') >= 0 || password.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException("Credentials may not contain line breaks.", nameof(user));
        }

        User = user;
        Password = password;
    }

    /// <summary>User name.</summary>
    public string User { get; }

    /// <summary>Password or token. Never logged.</summary>
    public string Password { get; }

    /// <summary>Anonymous FTP login.</summary>
    public static TransferCredentials Anonymous { get; } = new("anonymous", "flash@");

    /// <summary>Builds credentials from the SVM transfer parameters, if they carry a user.</summary>
    /// <param name="user">User, or null.</param>
    /// <param name="password">Password, or null (empty).</param>
    /// <returns>The credentials, or null when no user is given.</returns>
    public static TransferCredentials? From(string? user, string? password) =>
        string.IsNullOrEmpty(user) ? null : new TransferCredentials(user, password ?? "");

    /// <inheritdoc />
    public override string ToString() => "<credentials redacted>";
}

using System.Globalization;
using System.Security.Cryptography;
using Flash.Svm.Configuration;

namespace Flash.Svm.Management.Tl1;

/// <summary>What a TL1 user may do; every command needs one level (docs/management.md lists them).</summary>
public enum Tl1Privilege
{
    /// <summary>Retrievals only.</summary>
    Retrieve = 1,
    /// <summary>Also downloads and initialisation.</summary>
    Maintenance = 2,
    /// <summary>Also activation, commit, rollback and configuration restore.</summary>
    Administration = 3,
}

/// <summary>
/// TL1 user accounts kept in the node configuration: one setting <c>tl1.user.&lt;UID&gt;</c> per user whose value is
/// <c>pbkdf2-sha256:&lt;iterations&gt;:&lt;salt, base64&gt;:&lt;hash, base64&gt;:&lt;privilege 1-3&gt;</c>. Only hashes are stored.
/// </summary>
public static class Tl1Accounts
{
    /// <summary>Prefix of the account settings.</summary>
    public const string SettingPrefix = "tl1.user.";

    /// <summary>PBKDF2 iterations for new hashes.</summary>
    public const int Iterations = 100_000;

    /// <summary>Builds the setting value for a user (a new random salt).</summary>
    /// <param name="password">The password.</param>
    /// <param name="privilege">The privilege.</param>
    /// <param name="iterations">PBKDF2 iterations.</param>
    /// <returns>The setting value.</returns>
    public static string Hash(string password, Tl1Privilege privilege, int iterations = Iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(16);
        var hash = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, 32);
        return string.Create(CultureInfo.InvariantCulture, $"pbkdf2-sha256:{iterations}:{Convert.ToBase64String(salt)}:{Convert.ToBase64String(hash)}:{(int)privilege}");
    }

    /// <summary>True when the node configuration holds an account entry for the user.</summary>
    /// <param name="node">The node configuration.</param>
    /// <param name="user">User identifier (upper-cased TL1 UID).</param>
    /// <returns>Whether the account exists.</returns>
    public static bool Exists(ConfigurationFile? node, string user)
    {
        ArgumentNullException.ThrowIfNull(user);
        return node is not null && node.Settings.ContainsKey(SettingPrefix + user);
    }

    /// <summary>Checks a password against the node configuration.</summary>
    /// <param name="node">The node configuration.</param>
    /// <param name="user">User identifier (upper-cased TL1 UID).</param>
    /// <param name="password">The password given.</param>
    /// <returns>The user's privilege, or null when the user is unknown, the entry malformed or the password wrong.</returns>
    public static Tl1Privilege? Verify(ConfigurationFile? node, string user, string password)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        if (node is null || !node.Settings.TryGetValue(SettingPrefix + user, out var entry))
        {
            // Same work as a real check, so a probe cannot tell unknown users by the time taken.
            Rfc2898DeriveBytes.Pbkdf2(password, new byte[16], Iterations, HashAlgorithmName.SHA256, 32);
            return null;
        }

        var f = entry.Split(':');
        if (f.Length != 5 || f[0] != "pbkdf2-sha256" || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int iterations)
            || iterations is < 1 or > 10_000_000 || !int.TryParse(f[4], NumberStyles.None, CultureInfo.InvariantCulture, out int level) || level is < 1 or > 3)
        {
            return null;
        }

        byte[] salt;
        byte[] expected;
        try
        {
            salt = Convert.FromBase64String(f[2]);
            expected = Convert.FromBase64String(f[3]);
        }
        catch (FormatException)
        {
            return null;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(password, salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected) ? (Tl1Privilege)level : null;
    }
}

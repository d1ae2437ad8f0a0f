namespace Flash.Svm;

/// <summary>Base class of every SVM error.</summary>
public class SvmException : IOException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public SvmException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The cause.</param>
    public SvmException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>An SGC, configuration or context-table file failed to parse or its checksum does not match.</summary>
public sealed class SvmFormatException : SvmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the data.</param>
    public SvmFormatException(string message) : base(message) { }
}

/// <summary>Why a package was rejected.</summary>
public enum PackageRejectReason
{
    /// <summary>The package does not start with the package magic or has an unknown format version.</summary>
    BadFormat,
    /// <summary>The package ends before its declared size.</summary>
    Truncated,
    /// <summary>The header, an entry or the SGC file does not match its checksum.</summary>
    ChecksumMismatch,
    /// <summary>The signature is missing, malformed or made by an untrusted key.</summary>
    BadSignature,
    /// <summary>An entry name is absolute, contains <c>..</c> or otherwise escapes the package.</summary>
    PathEscape,
    /// <summary>An entry or the whole package exceeds the configured size limit.</summary>
    Oversized,
    /// <summary>The release is older than the node's anti-rollback floor.</summary>
    Rollback,
    /// <summary>The SGC file and the entries disagree (missing or extra component), or the release has no component.</summary>
    Inconsistent,
    /// <summary>The release is the one already installed; reinstalling it needs <see cref="SvmOptions.AllowSameVersionReinstall"/>.</summary>
    SameVersion,
    /// <summary>The package envelope is signed by a key on the revocation list (see <see cref="Packages.PackageTrust"/>).</summary>
    KeyRevoked,
}

/// <summary>A package was rejected before anything was written to storage.</summary>
public sealed class PackageRejectedException : SvmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="reason">Why the package was rejected.</param>
    /// <param name="message">Details.</param>
    public PackageRejectedException(PackageRejectReason reason, string message) : base($"Package rejected ({reason}): {message}") => Reason = reason;

    /// <summary>Why the package was rejected.</summary>
    public PackageRejectReason Reason { get; }
}

/// <summary>Storage (the redundant NVS pair) is unusable: neither device holds a verified software set and no source can restore one.</summary>
public sealed class NvsUnavailableException : SvmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was found.</param>
    public NvsUnavailableException(string message) : base(message) { }
}

/// <summary>The configuration is missing or corrupt and neither a backup nor a factory default may replace it.</summary>
public sealed class ConfigurationUnavailableException : SvmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="name">The configuration file.</param>
    /// <param name="message">What was found.</param>
    public ConfigurationUnavailableException(string name, string message) : base(message) => Name = name;

    /// <summary>The configuration file that could not be restored.</summary>
    public string Name { get; }
}

/// <summary>An upgrade failed; the current context is untouched and the alternate is marked invalid.</summary>
public sealed class UpgradeFailedException : SvmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="inner">The cause.</param>
    public UpgradeFailedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A release below the node's anti-rollback floor was not activated; nothing was changed.</summary>
public sealed class RollbackRefusedException : SvmException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="release">The release refused.</param>
    /// <param name="counter">Its security counter.</param>
    /// <param name="floor">The floor in effect.</param>
    public RollbackRefusedException(Sgc.SoftwareVersion release, ulong counter, ulong floor)
        : base($"Release {release} (security counter {counter:x}) is below the anti-rollback floor {floor:x}.")
    {
        Release = release;
        SecurityCounter = counter;
        Floor = floor;
    }

    /// <summary>The release refused.</summary>
    public Sgc.SoftwareVersion Release { get; }

    /// <summary>Its security counter.</summary>
    public ulong SecurityCounter { get; }

    /// <summary>The floor in effect.</summary>
    public ulong Floor { get; }
}

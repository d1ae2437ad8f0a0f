namespace Flash.Svm.Packages;

/// <summary>File transfer parameters carried by the system command that starts an upgrade.</summary>
/// <param name="Source">Source kind: <c>file</c> or <c>dir</c> (network kinds later).</param>
/// <param name="Path">Path of the package: a file path, or a name relative to the directory source.</param>
/// <param name="User">User name for sources that need one.</param>
/// <param name="Password">Password or token for sources that need one.</param>
public sealed record TransferParameters(string Source, string Path, string? User = null, string? Password = null)
{
    /// <inheritdoc />
    public override string ToString() => $"{Source}:{Path}" + (User is null ? "" : $" as {User}");
}

/// <summary>Somewhere software packages come from.</summary>
public interface ISoftwareSource
{
    /// <summary>The source kind this source serves (matches <see cref="TransferParameters.Source"/>).</summary>
    string Kind { get; }

    /// <summary>Fetches a package.</summary>
    /// <param name="parameters">Transfer parameters.</param>
    /// <param name="maxBytes">Refuse packages larger than this.</param>
    /// <param name="cancellationToken">Cancels the transfer.</param>
    /// <returns>The package file.</returns>
    /// <exception cref="PackageRejectedException">The package is larger than <paramref name="maxBytes"/>.</exception>
    /// <exception cref="IOException">The transfer failed.</exception>
    byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken);
}

/// <summary>Reads a package from a local file path.</summary>
public sealed class FileSoftwareSource : ISoftwareSource
{
    /// <inheritdoc />
    public string Kind => "file";

    /// <inheritdoc />
    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        cancellationToken.ThrowIfCancellationRequested();
        var info = new FileInfo(parameters.Path);
        if (!info.Exists)
        {
            throw new FileNotFoundException("Package not found.", parameters.Path);
        }

        if (info.Length > maxBytes)
        {
            throw new PackageRejectedException(PackageRejectReason.Oversized, $"{info.Length} bytes exceeds the limit of {maxBytes}.");
        }

        return File.ReadAllBytes(info.FullName);
    }
}

/// <summary>Serves packages from one local directory; paths may not escape it.</summary>
/// <param name="root">The directory.</param>
public sealed class DirectorySoftwareSource(string root) : ISoftwareSource
{
    private readonly string _root = System.IO.Path.GetFullPath(root);

    /// <inheritdoc />
    public string Kind => "dir";

    /// <inheritdoc />
    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(_root, parameters.Path));
        if (!full.StartsWith(_root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new PackageRejectedException(PackageRejectReason.PathEscape, $"'{parameters.Path}' escapes the source directory.");
        }

        RefuseLinksOutside(full);
        return new FileSoftwareSource().Fetch(parameters with { Path = full }, maxBytes, cancellationToken);
    }

    /// <summary>Every symbolic link on the way from the root to the file must resolve inside the root.</summary>
    private void RefuseLinksOutside(string full)
    {
        string path = _root;
        foreach (var part in full[(_root.Length + 1)..].Split(System.IO.Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            path = System.IO.Path.Combine(path, part);
            FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
            if (info.LinkTarget is null)
            {
                continue;
            }

            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            string resolved = target is null ? "" : System.IO.Path.GetFullPath(target.FullName);
            if (!resolved.StartsWith(_root + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new PackageRejectedException(PackageRejectReason.PathEscape, $"'{path}' is a link that leads outside the source directory.");
            }
        }
    }
}

/// <summary>Serves packages held in memory (tests, demos).</summary>
public sealed class MemorySoftwareSource : ISoftwareSource
{
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string Kind => "mem";

    /// <summary>Adds or replaces a package.</summary>
    /// <param name="path">Its path.</param>
    /// <param name="package">The package file.</param>
    public void Add(string path, byte[] package) => _files[path] = package;

    /// <inheritdoc />
    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        cancellationToken.ThrowIfCancellationRequested();
        if (!_files.TryGetValue(parameters.Path, out var data))
        {
            throw new FileNotFoundException("Package not found.", parameters.Path);
        }

        return data.Length > maxBytes
            ? throw new PackageRejectedException(PackageRejectReason.Oversized, $"{data.Length} bytes exceeds the limit of {maxBytes}.")
            : data;
    }
}

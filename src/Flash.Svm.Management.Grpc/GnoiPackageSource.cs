using System.Collections.Concurrent;
using Flash.Svm.Packages;

namespace Flash.Svm.Management.Grpc;

/// <summary>
/// The software source of packages streamed in by gNOI <c>Install</c> (kind <c>gnoi</c>, path = the requested
/// version). Register it in <see cref="SvmOptions.Sources"/>; the OS service adds each package before the download
/// starts and removes it when the download ends.
/// </summary>
public sealed class GnoiPackageSource : ISoftwareSource
{
    private readonly ConcurrentDictionary<string, byte[]> _packages = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public string Kind => "gnoi";

    internal void Add(string version, byte[] package) => _packages[version] = package;

    internal void Remove(string version) => _packages.TryRemove(version, out _);

    /// <inheritdoc />
    public byte[] Fetch(TransferParameters parameters, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!_packages.TryGetValue(parameters.Path, out var data))
        {
            throw new FileNotFoundException("No streamed package for this version.", parameters.Path);
        }

        return data.Length > maxBytes ? throw new PackageRejectedException(PackageRejectReason.Oversized, $"{data.Length} bytes exceeds the limit of {maxBytes}.") : data;
    }
}

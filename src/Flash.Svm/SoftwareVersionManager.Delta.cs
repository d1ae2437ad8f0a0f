using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>
    /// A delta package must carry every component the upgrade downloads; the rest is copied from the current context
    /// and checked against the new SGC's digests while it is stored. Checked before anything is written.
    /// </summary>
    private void RequireDeltaCovered(SoftwarePackage pkg, IReadOnlyList<SgcComponent> download)
    {
        var missing = download.Where(c => !pkg.Contains(c.Name)).Select(c => c.Name).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        Raise(SvmEvents.PackageRejected, LogLevel.Error, $"Delta package {pkg.Release} lacks changed component(s) {string.Join(", ", missing)}");
        throw new PackageRejectedException(PackageRejectReason.Inconsistent,
            $"Delta package {pkg.Release} lacks {string.Join(", ", missing)}, which the current context does not hold unchanged (a full upgrade or a whole package is needed).");
    }
}

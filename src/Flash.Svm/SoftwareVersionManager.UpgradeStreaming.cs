using System.Runtime.ExceptionServices;
using Flash.Ffs.Contexts;
using Flash.Svm.Packages;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>
    /// The upgrade command over a synchronous streaming source: the package is verified and stored into the alternate
    /// context as it arrives (<see cref="StreamingInstall"/>), resuming a partial install of the same command left by a
    /// power cut or a failed transfer. Nothing becomes activatable before the signed manifest and every component
    /// digest verified, and the alternate verified on both devices. Order and records: docs/sgc.md "Streaming install".
    /// </summary>
    private UpgradeResult UpgradeStreaming(UpgradeCommand command, IStreamingSoftwareSource source, IProgress<UpgradeProgress>? progress, CancellationToken cancellationToken)
    {
        using var install = OpenStreamingInstall(command, progress, cancellationToken);
        try
        {
            install.OpenResumable();
            if (!install.Downloaded)
            {
                source.Stream(command.Transfer, _options.Packages.MaxPackageSize, install, cancellationToken);
                install.RequireDownloaded();
            }

            return install.Finish(command.Activation);
        }
        catch (Exception ex) when (IsStreamingFailure(ex))
        {
            throw StreamingFailed(install, ex);
        }
    }

    /// <summary>
    /// The same install over an asynchronous (network) source: the transfer is awaited, and the install's device work
    /// (the pair's synchronous core: one mirrored commit per slice) runs in the sink as the bytes arrive, on whichever
    /// thread the transfer continues on. Opening, resuming and finishing wait for nothing and run synchronously.
    /// </summary>
    private async Task<UpgradeResult> UpgradeStreamingAsync(UpgradeCommand command, IAsyncStreamingSoftwareSource source, IProgress<UpgradeProgress>? progress, CancellationToken cancellationToken)
    {
        using var install = OpenStreamingInstall(command, progress, cancellationToken);
        try
        {
            install.OpenResumable();
            if (!install.Downloaded)
            {
                await source.StreamAsync(command.Transfer, _options.Packages.MaxPackageSize, install, cancellationToken).ConfigureAwait(false);
                install.RequireDownloaded();
            }

            return install.Finish(command.Activation);
        }
        catch (Exception ex) when (IsStreamingFailure(ex))
        {
            throw StreamingFailed(install, ex);
        }
    }

    private StreamingInstall OpenStreamingInstall(UpgradeCommand command, IProgress<UpgradeProgress>? progress, CancellationToken cancellationToken)
    {
        var currentSgc = CurrentSgcOrNull();
        var mode = command.Mode == UpgradeMode.Auto ? (currentSgc is null ? UpgradeMode.Full : UpgradeMode.Partial) : command.Mode;
        if (mode == UpgradeMode.Partial && currentSgc is null)
        {
            throw new SvmException("A partial upgrade needs a valid SGC file in the current context.");
        }

        return new StreamingInstall(this, StreamingInstallState.IdentityOf(command.Transfer), mode, currentSgc, progress, cancellationToken);
    }

    private static bool IsStreamingFailure(Exception ex) => ex is PackageRejectedException or IOException or OperationCanceledException or InvalidOperationException;

    /// <summary>
    /// What a failed streaming install leaves and throws: bad input discards everything stored (no resume into a
    /// package that failed its checks); a transfer or storage failure keeps the stored part in the invalid alternate, so
    /// the same command continues from it. Rethrows a rejection or a cancellation as it was (stack kept); returns the
    /// <see cref="UpgradeFailedException"/> to throw for any other failure.
    /// </summary>
    private UpgradeFailedException StreamingFailed(StreamingInstall install, Exception ex)
    {
        if (ex is PackageRejectedException)
        {
            Raise(SvmEvents.PackageRejected, LogLevel.Error, ex.Message);
            install.Discard();
            ExceptionDispatchInfo.Throw(ex);
        }

        MarkAlternateInvalid();
        var release = install.Release is { } r ? r.ToString() : "a streamed package";
        Raise(SvmEvents.UpgradeFailed, LogLevel.Error, $"Upgrade to {release} {(ex is OperationCanceledException ? "cancelled" : "failed")} at {install.Length} of {install.Total} bytes: {ex.Message}; the alternate is marked invalid, the same command resumes");
        if (ex is OperationCanceledException)
        {
            ExceptionDispatchInfo.Throw(ex);
        }

        return new UpgradeFailedException($"Upgrade to {release} failed: {ex.Message}", ex);
    }

    private SgcFile? CurrentSgcOrNull()
    {
        try
        {
            var bytes = TryReadCurrent(SvmLayout.Sgc);
            return bytes is null ? null : SgcFile.Parse(bytes);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>The checks a release must pass before anything of it is stored (made on the unsigned header) and again once it is signed.</summary>
    private void RequireInstallable(SgcFile sgc, SgcFile? currentSgc)
    {
        ulong floor = SecurityFloor();
        if (sgc.SecurityCounter < floor)
        {
            throw new PackageRejectedException(PackageRejectReason.Rollback, $"Release {sgc.Release} has security counter {sgc.SecurityCounter:x}, below the node's anti-rollback floor {floor:x}.");
        }

        if (currentSgc is not null && currentSgc.Release == sgc.Release && !_options.AllowSameVersionReinstall)
        {
            throw new PackageRejectedException(PackageRejectReason.SameVersion, $"Release {sgc.Release} is already current.");
        }
    }

    /// <summary>Every component the upgrade must download must be in the package (a delta package may lack the others).</summary>
    private static void RequireStreamCovers(PackageHeader header, IReadOnlyList<SgcComponent> download)
    {
        var missing = download.Where(c => !header.Contains(c.Name)).Select(c => c.Name).ToList();
        if (missing.Count > 0)
        {
            throw new PackageRejectedException(PackageRejectReason.Inconsistent,
                $"Delta package {header.Sgc.Release} lacks {string.Join(", ", missing)}, which the current context does not hold unchanged (a full upgrade or a whole package is needed).");
        }
    }
}

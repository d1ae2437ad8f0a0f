using Flash.Ffs.Mirror;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>Stores one file of a new software set into the alternate of both devices (see <see cref="StoreVerifiedCore"/>).</summary>
    private void StoreVerified(RedundantPair pair, string path, ReadOnlyMemory<byte> data, SgcDigestCheck check, CancellationToken cancellationToken)
        => StoreVerifiedCore(pair, [new(path, data)], check, cancellationToken);

    /// <summary>Stores files of a new software set into the alternate of both devices in one commit per device (see <see cref="StoreVerifiedCore"/>).</summary>
    private void StoreVerified(RedundantPair pair, IEnumerable<KeyValuePair<string, byte[]>> files, SgcDigestCheck check, CancellationToken cancellationToken)
        => StoreVerifiedCore(pair, files.Select(f => new KeyValuePair<string, ReadOnlyMemory<byte>>(f.Key, f.Value)).ToList(), check, cancellationToken);

    /// <summary>
    /// One caller-held transaction of the pair: the files are committed on the primary, then the backup reads each of
    /// them back from the primary and checks it against the SGC digests before writing it to the secondary (claim 36),
    /// while reads of the primary wait (claim 37, <see cref="SvmOptions.RestrictPrimaryDuringUpgradeCopy"/>). A copy
    /// that does not verify and cannot be healed on the primary fails the upgrade: the alternate is cleared on the
    /// primary and the secondary, which never received the bad copy, is brought back in step from it.
    /// </summary>
    private void StoreVerifiedCore(RedundantPair pair, IReadOnlyList<KeyValuePair<string, ReadOnlyMemory<byte>>> files, SgcDigestCheck check, CancellationToken cancellationToken)
    {
        var options = new PairTransactionOptions
        {
            RestrictPrimaryDuringBackup = _options.RestrictPrimaryDuringUpgradeCopy,
            RestrictedReadTimeout = _options.RestrictedReadTimeout,
            BackupCheck = check.Check,
        };
        using (var txn = pair.BeginTransaction(options, cancellationToken))
        {
            foreach (var (path, data) in files)
            {
                txn.WriteAlternate(path, data.Span);
            }

            try
            {
                txn.CompletePrimary(cancellationToken);
            }
            catch (BackupVerificationException ex)
            {
                txn.Complete();
                Raise(SvmEvents.UpgradeCopyNotVerified, LogLevel.Error,
                    $"{ex.Path} does not verify against the SGC file on the primary {NameOf(pair.Primary)} and could not be healed; it was not copied to {NameOf(pair.Secondary)}",
                    device: NameOf(pair.Primary));
                InvalidateUnverifiedAlternate(pair);
                throw;
            }
        }
    }

    /// <summary>After a copy that did not verify: clear the alternate on the primary and bring the secondary (marked for resynchronisation) back in step.</summary>
    private static void InvalidateUnverifiedAlternate(RedundantPair pair)
    {
        try
        {
            pair.ClearAlternate();
            pair.Resynchronize();
        }
        catch (IOException)
        {
            // The devices failed meanwhile: the next init repairs them.
        }
    }
}

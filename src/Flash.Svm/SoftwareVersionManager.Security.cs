using Flash.Ffs.Contexts;
using Flash.Svm.Packages;
using Flash.Svm.Security;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>The persistent security state of the current context (the primary's record, else the secondary's; <see cref="SecurityState.None"/> when neither is valid).</summary>
    /// <returns>The state.</returns>
    public SecurityState ReadSecurityState() => ReadSecurity(Storage.Table.Current);

    /// <summary>
    /// The anti-rollback floor in effect: the stored floor, and at least the security counter of the committed current
    /// release (so a volume without the record, or with a damaged one on both devices, still refuses older releases).
    /// </summary>
    /// <returns>The lowest acceptable security counter.</returns>
    public ulong SecurityFloor()
    {
        var t = Storage.Table;
        ulong floor = ReadSecurity(t.Current).Floor;
        if (t.CurrentState == ContextState.Valid && SgcOf(t.Current) is { } sgc)
        {
            floor = Math.Max(floor, sgc.SecurityCounter);
        }

        return floor;
    }

    private SecurityState ReadSecurity(ContextArea area)
    {
        var pair = Storage;
        foreach (var m in new[] { pair.Primary, pair.Secondary })
        {
            if (m.Table is not null && !m.IsFailed && m.Table.Current == pair.Table.Current && TryReadOn(pair, m, area, SvmLayout.SecurityState) is { } bytes && SecurityState.TryDecode(bytes) is { } s)
            {
                return s;
            }
        }

        return SecurityState.None;
    }

    /// <summary>The SGC file of an area on the primary, or null when it is missing or does not parse.</summary>
    private SgcFile? SgcOf(ContextArea area)
    {
        try
        {
            return TryReadOn(Storage, Storage.Primary, area, SvmLayout.Sgc) is { } b ? SgcFile.Parse(b) : null;
        }
        catch (SvmFormatException)
        {
            return null;
        }
    }

    private void WriteSecurity(SecurityState state, CancellationToken cancellationToken = default)
        => Storage.WriteCurrentConfiguration([new(SvmLayout.SecurityState, state.Encode())], cancellationToken);

    /// <summary>Refuses a package whose security counter is below the floor (nothing written).</summary>
    private void RequirePackageAtFloor(SoftwarePackage pkg)
    {
        ulong floor = SecurityFloor();
        if (pkg.Sgc.SecurityCounter < floor)
        {
            Raise(SvmEvents.PackageRejected, LogLevel.Error, $"Release {pkg.Release} (security counter {pkg.Sgc.SecurityCounter:x}) is below the anti-rollback floor {floor:x}");
            throw new PackageRejectedException(PackageRejectReason.Rollback, $"Release {pkg.Release} has security counter {pkg.Sgc.SecurityCounter:x}, below the node's anti-rollback floor {floor:x}.");
        }
    }

    /// <summary>Refuses to activate the alternate when its release is below the floor.</summary>
    private void RequireAlternateAtFloor(string action)
    {
        var t = Storage.Table;
        var sgc = SgcOf(t.Alternate) ?? throw new InvalidOperationException($"The alternate context has no valid SGC file; cannot {action}.");
        ulong floor = SecurityFloor();
        if (sgc.SecurityCounter < floor)
        {
            Raise(SvmEvents.RollbackRefused, LogLevel.Error, $"Refused to {action}: release {sgc.Release} (security counter {sgc.SecurityCounter:x}) is below the anti-rollback floor {floor:x}");
            throw new RollbackRefusedException(sgc.Release, sgc.SecurityCounter, floor);
        }
    }

    /// <summary>A release committed: the floor rises to its security counter and any trial bookkeeping ends (written only when it changes).</summary>
    private void CommitSecurity(CancellationToken cancellationToken)
    {
        var t = Storage.Table;
        if (t.CurrentState != ContextState.Valid || SgcOf(t.Current) is not { } sgc)
        {
            return;
        }

        var now = ReadSecurity(t.Current);
        var next = new SecurityState(Math.Max(now.Floor, sgc.SecurityCounter));
        if (next != now)
        {
            WriteSecurity(next, cancellationToken);
            if (next.Floor != now.Floor)
            {
                Raise(SvmEvents.SecurityFloorRaised, LogLevel.Information, $"Anti-rollback floor raised to {next.Floor:x} (release {sgc.Release} committed)");
            }
        }
    }
}

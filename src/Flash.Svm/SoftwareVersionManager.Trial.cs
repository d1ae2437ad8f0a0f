using Flash.Ffs.Contexts;
using Flash.Ffs.Mirror;
using Flash.Svm.Security;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;

namespace Flash.Svm;

public sealed partial class SoftwareVersionManager
{
    /// <summary>
    /// Trial boot (or its continuation after a reset), then the system-wide init command on the current context, then
    /// the commit of the security state. A trial's attempts are counted in the security state and each is consumed
    /// durably before it starts, so resets during a trial fall back after exactly the attempts granted.
    /// </summary>
    private void RunBoot(BootReport report, CancellationToken cancellationToken)
    {
        var pair = Storage;
        var t = pair.Table;
        SgcFile? trialSgc = null;
        int left = 0;

        if (t.CurrentState == ContextState.Trial)
        {
            var (pending, carried) = PendingTrial(t);
            if (pending is { AttemptsLeft: > 0 } && SgcOf(t.Current) is { } resumed)
            {
                // A reset during the trial with attempts left: try again (finishing the configuration carry-over first
                // when the reset came between the switch and the carry).
                if (!carried)
                {
                    pair.WriteCurrentConfiguration(ConfigurationOf(pair.Primary, t.Alternate), cancellationToken);
                }

                trialSgc = resumed;
                left = pending.AttemptsLeft;
                Raise(SvmEvents.TrialRetry, LogLevel.Warning, $"The trial of release {resumed.Release} was interrupted by a reset; {left} attempt(s) left");
            }
            else
            {
                t = EndInterruptedTrial(pair, t, report, cancellationToken);
            }
        }

        if (trialSgc is null && t.AlternateBoot && t.AlternateState != ContextState.Valid)
        {
            t = pair.ClearAlternateBoot(cancellationToken);
        }

        if (trialSgc is null && t.AlternateBoot)
        {
            (trialSgc, left) = StartTrial(pair, t, report, cancellationToken);
        }

        if (trialSgc is not null)
        {
            RunTrial(pair, trialSgc, left, report, cancellationToken);
        }

        // System-wide init command on the current context: modules whose loaded software differs are (re-)initialised.
        var sgc = CurrentSgc();
        report.Release = sgc.Release;
        InitModules(sgc, report, cancellationToken);
        CommitSecurity(cancellationToken);
    }

    /// <summary>The pending trial recorded for the release on trial, and whether it was found in the trial area (the configuration was carried over) or only in the previous one (the reset came before the carry-over).</summary>
    private (SecurityState? State, bool Carried) PendingTrial(ContextTable t)
    {
        foreach (var area in new[] { t.Current, t.Alternate })
        {
            var s = ReadSecurity(area);
            if (s.TrialPending && s.TrialRelease == t.CurrentRelease())
            {
                return (s, area == t.Current);
            }
        }

        return (null, false);
    }

    /// <summary>A trial interrupted with no attempt left (or with nothing recorded): revert to the previous release, or keep the new one when the previous does not verify.</summary>
    private ContextTable EndInterruptedTrial(RedundantPair pair, ContextTable t, BootReport report, CancellationToken cancellationToken)
    {
        if (t.AlternateState == ContextState.Valid && Verify(pair.Primary, t.Alternate, checkConfiguration: false).SoftwareOk)
        {
            var trialRelease = t.CurrentRelease();
            t = pair.SwitchContexts(trial: false, cancellationToken);
            report.Trial = TrialOutcome.RolledBack;
            Raise(SvmEvents.RolledBack, LogLevel.Warning, $"The trial of release {trialRelease} was interrupted before it was committed and has no attempt left; reverted to release {t.CurrentRelease()}, {trialRelease} marked invalid");
            return t;
        }

        // Nothing good to revert to (an activation that rebuilt a bad current set was interrupted): keep the new set,
        // with the previous configuration carried over when it verifies.
        var previous = ConfigurationOf(pair.Primary, t.Alternate).Where(f => f.Key != SvmLayout.SecurityState).ToList();
        if (previous.Count > 0 && previous.All(f => Parses(f.Value)))
        {
            pair.WriteCurrentConfiguration(previous, cancellationToken);
        }

        pair.ConfirmCurrent(cancellationToken);
        InvalidateBadAlternate(pair, cancellationToken);
        return pair.Table;
    }

    /// <summary>Checks the alternate (software, anti-rollback floor), records the trial with its attempts, switches to it on trial and carries the configuration over.</summary>
    private (SgcFile? Sgc, int Attempts) StartTrial(RedundantPair pair, ContextTable t, BootReport report, CancellationToken cancellationToken)
    {
        int attempts = Math.Max(1, t.BootRetries);
        var release = t.AlternateRelease();
        var v = Verify(pair.Primary, t.Alternate, checkConfiguration: false);
        ulong floor = SecurityFloor();
        string? refusal = !v.SoftwareOk ? $"alternate does not verify: {v.SoftwareError}"
            : v.Sgc!.SecurityCounter < floor ? $"security counter {v.Sgc.SecurityCounter:x} is below the anti-rollback floor {floor:x}"
            : null;
        if (refusal is not null)
        {
            Raise(v.SoftwareOk ? SvmEvents.RollbackRefused : SvmEvents.ModuleFailed, LogLevel.Warning, $"Trial of release {release} refused: {refusal}");
            pair.Invalidate(t.Alternate, cancellationToken);
            report.Trial = TrialOutcome.RolledBack;
            Raise(SvmEvents.RolledBack, LogLevel.Warning, $"Stayed on release {t.CurrentRelease()}; release {release} marked invalid");
            return (null, 0);
        }

        // The trial and its attempts are recorded first (carried into the trial area with the configuration), then the
        // switch makes the release current on Trial and clears the boot flag in one commit per device.
        WriteSecurity(ReadSecurity(t.Current) with { TrialPending = true, TrialRelease = release, AttemptsLeft = attempts }, cancellationToken);
        var carried = ConfigurationOf(pair.Primary, t.Current);
        pair.SwitchContexts(trial: true, cancellationToken);

        // The configuration the node runs with now (changed after the upgrade was stored, perhaps) goes with the release.
        pair.WriteCurrentConfiguration(carried, cancellationToken);
        return (v.Sgc, attempts);
    }

    /// <summary>Runs the trial's remaining attempts (each consumed durably first), then commits or rolls back.</summary>
    private void RunTrial(RedundantPair pair, SgcFile sgc, int left, BootReport report, CancellationToken cancellationToken)
    {
        var release = sgc.Release;
        bool ok = false;
        while (left > 0 && !ok)
        {
            left--;
            WriteSecurity(ReadSecurity(pair.Table.Current) with { TrialPending = true, TrialRelease = release, AttemptsLeft = left }, cancellationToken);
            report.TrialAttempts++;
            Raise(SvmEvents.TrialStarted, LogLevel.Information, $"Trial boot of release {release} (attempt {report.TrialAttempts}, {left} left after it); context on trial");
            var trial = new BootReport { Release = release, PrimaryDevice = report.PrimaryDevice };
            InitModules(sgc, trial, cancellationToken);
            ok = trial.Healthy && (_options.TrialValidator?.Invoke(trial) ?? true);
            foreach (var m in trial.InitialisedModules.Where(m => !report.InitialisedModules.Contains(m)))
            {
                report.InitialisedModules.Add(m);
            }

            if (!ok)
            {
                Raise(SvmEvents.ModuleFailed, LogLevel.Warning, $"Trial of release {release} failed: " +
                    (trial.Healthy ? "rejected by the validation callback" : $"module(s) {string.Join(", ", trial.FailedModules)} not healthy"));
                if (left > 0)
                {
                    Raise(SvmEvents.TrialRetry, LogLevel.Warning, $"Retrying the trial of release {release} ({left} attempt(s) left)");
                }
            }
        }

        ContextTable t;
        if (ok)
        {
            t = pair.ConfirmCurrent(cancellationToken);
            report.Trial = TrialOutcome.Committed;
            Raise(SvmEvents.Committed, LogLevel.Information, $"Trial succeeded: release {t.CurrentRelease()} committed as current; {t.AlternateRelease()} kept as alternate");
        }
        else
        {
            t = pair.SwitchContexts(trial: false, cancellationToken);
            report.Trial = TrialOutcome.RolledBack;
            Raise(SvmEvents.RolledBack, LogLevel.Warning, $"Rolled back to release {t.CurrentRelease()}; release {release} marked invalid");
        }
    }
}

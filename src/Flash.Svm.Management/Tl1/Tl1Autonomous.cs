using System.Globalization;
using Flash.Svm.Management.Upgrades;

namespace Flash.Svm.Management.Tl1;

/// <summary>
/// Turns SVM events and upgrade state changes into TL1 autonomous messages, each with the next ATAG:
/// <c>REPT EVT FXFR</c> (transfer progress, every 10 % of a phase), <c>REPT EVT UPG</c> (state changes),
/// <c>REPT EVT PROGDEV</c> (a programmable device that an upgrade reprograms; claims 45, 51), <c>REPT EVT TRIAL</c>
/// (trial started, committed, rolled back) and <c>REPT ALM</c> (an NVS device going bad / repaired, a module failing / initialised).
/// </summary>
public sealed class Tl1Autonomous
{
    private readonly UpgradeStateMachine _machine;
    private readonly Tl1Formatter _format;
    private readonly Tl1AlarmTable _alarms;
    private readonly TimeProvider _time;
    private readonly Action<string> _send;
    private readonly Lock _gate = new();
    private long _atag;
    private (string Phase, int Decile) _lastProgress = ("", -1);

    /// <summary>Creates the source of autonomous messages.</summary>
    /// <param name="machine">The upgrade state machine.</param>
    /// <param name="format">Output formatter.</param>
    /// <param name="alarms">The active alarms, kept up to date here.</param>
    /// <param name="time">Clock.</param>
    /// <param name="send">Delivers a message to every logged-in session.</param>
    public Tl1Autonomous(UpgradeStateMachine machine, Tl1Formatter format, Tl1AlarmTable alarms, TimeProvider time, Action<string> send)
    {
        _machine = machine ?? throw new ArgumentNullException(nameof(machine));
        _format = format ?? throw new ArgumentNullException(nameof(format));
        _alarms = alarms ?? throw new ArgumentNullException(nameof(alarms));
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _send = send ?? throw new ArgumentNullException(nameof(send));
    }

    /// <summary>Subscribes to the machine and SVM.</summary>
    public void Attach()
    {
        _machine.Changed += OnChanged;
        _machine.Progress += OnProgress;
        _machine.Svm.Event += OnSvmEvent;
    }

    /// <summary>Unsubscribes.</summary>
    public void Detach()
    {
        _machine.Changed -= OnChanged;
        _machine.Progress -= OnProgress;
        _machine.Svm.Event -= OnSvmEvent;
    }

    private void OnChanged(object? sender, UpgradeStatus s)
    {
        Emit(Tl1AlarmCode.Event, "REPT EVT UPG", Tl1CommandSet.Describe(s));
        if (s.State is UpgradeState.Validated or UpgradeState.Failed || s.State == UpgradeState.Idle && s.Outcome == UpgradeOutcome.Cancelled)
        {
            string status = s.State == UpgradeState.Validated ? "COMPLD" : "FAILED";
            Emit(Tl1AlarmCode.Event, "REPT EVT FXFR", $"FROMURI=\"{s.Source}\",FXFRSTATUS={status},FXFRRSLT={(status == "COMPLD" ? "SUCCESS" : "FAILURE")}");
        }
    }

    private void OnProgress(object? sender, UpgradeTransferProgress p)
    {
        int decile = p.Percent / 10;
        lock (_gate)
        {
            if (_lastProgress == (p.Progress.Phase, decile))
            {
                return;
            }

            _lastProgress = (p.Progress.Phase, decile);
        }

        Emit(Tl1AlarmCode.Event, "REPT EVT FXFR", string.Create(CultureInfo.InvariantCulture,
            $"FROMURI=\"{p.Source}\",FXFRSTATUS=INPROGRESS,PHASE={p.Progress.Phase.ToUpperInvariant()},BYTESXFRD={p.Progress.Bytes},PERCENT={p.Percent}"));
    }

    private void OnSvmEvent(object? sender, SvmEventArgs e)
    {
        string? module = e.Module is { } m ? Tl1CommandSet.Aid(m) : null;
        string? device = e.Device is { } d ? "NVS-" + d.ToUpperInvariant() : null;
        if (e.Id == SvmEvents.ProgrammableDeviceChange && module is not null)
        {
            Emit(Tl1AlarmCode.Minor, "REPT EVT PROGDEV", $"{module}:DEVICE={e.Device},SVCEFF=SA,\"{e.Message}\"");
        }
        else if (e.Id == SvmEvents.TrialStarted || e.Id == SvmEvents.Committed || e.Id == SvmEvents.RolledBack)
        {
            string result = e.Id == SvmEvents.TrialStarted ? "STARTED" : e.Id == SvmEvents.Committed ? "PASSED" : "FAILED";
            Emit(Tl1AlarmCode.Event, "REPT EVT TRIAL", $"RESULT={result},\"{e.Message}\"");
        }
        else if (e.Id == SvmEvents.DeviceBad && device is not null)
        {
            Alarm(raise: true, device, "DEVFAIL", Tl1AlarmCode.Major, e.Message);
        }
        else if (e.Id == SvmEvents.DeviceRepaired && device is not null)
        {
            Alarm(raise: false, device, "DEVFAIL", Tl1AlarmCode.Major, e.Message);
        }
        else if (e.Id == SvmEvents.ModuleFailed && module is not null)
        {
            Alarm(raise: true, module, "INITFAIL", Tl1AlarmCode.Minor, e.Message);
        }
        else if (e.Id == SvmEvents.ModuleInitialised && module is not null)
        {
            Alarm(raise: false, module, "INITFAIL", Tl1AlarmCode.Minor, e.Message);
        }
    }

    private void Alarm(bool raise, string aid, string condition, Tl1AlarmCode severity, string text)
    {
        if (raise)
        {
            if (_alarms.Raise(new Tl1Alarm(aid, condition, severity, text, _time.GetUtcNow())))
            {
                Emit(severity, "REPT ALM", $"{aid}:{severity.ToString().ToUpperInvariant()},{condition},SA,\"{text}\"");
            }
        }
        else if (_alarms.Clear(aid, condition) is { } cleared)
        {
            Emit(Tl1AlarmCode.Event, "REPT ALM", $"{aid}:CL,{condition},NSA,\"{text}\"");
            _ = cleared;
        }
    }

    private void Emit(Tl1AlarmCode code, string verb, string line)
    {
        long atag = Interlocked.Increment(ref _atag);
        _send(_format.Autonomous(code, atag, verb, [line]));
    }
}

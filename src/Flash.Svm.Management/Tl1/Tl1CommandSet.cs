using System.Globalization;
using Flash.Ffs.Contexts;
using Flash.Svm.Configuration;
using Flash.Svm.Management.Node;
using Flash.Svm.Management.Upgrades;
using Flash.Svm.Node;
using Flash.Svm.Sgc;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Management.Tl1;

/// <summary>
/// Executes parsed TL1 commands against the upgrade state machine and SVM: log-in, privilege per command, then the
/// command. Every refusal is a <c>DENY</c> with its code and leaves stored data untouched.
/// </summary>
public sealed class Tl1CommandSet
{
    /// <summary>The privilege each command needs (commands absent here are unknown: <c>ICNV</c>).</summary>
    public static readonly IReadOnlyDictionary<string, Tl1Privilege> Privileges = new Dictionary<string, Tl1Privilege>(StringComparer.Ordinal)
    {
        ["RTRV-HDR"] = Tl1Privilege.Retrieve,
        ["RTRV-SW"] = Tl1Privilege.Retrieve,
        ["RTRV-UPG"] = Tl1Privilege.Retrieve,
        ["RTRV-CONTEXT"] = Tl1Privilege.Retrieve,
        ["RTRV-NVS"] = Tl1Privilege.Retrieve,
        ["RTRV-EQPT"] = Tl1Privilege.Retrieve,
        ["RTRV-ALM-ALL"] = Tl1Privilege.Retrieve,
        ["RTRV-CFG"] = Tl1Privilege.Retrieve,
        ["COPY-RFILE"] = Tl1Privilege.Maintenance,
        ["INIT-SYS"] = Tl1Privilege.Maintenance,
        ["APPLY"] = Tl1Privilege.Administration,
        ["ED-CFG"] = Tl1Privilege.Administration,
        ["RST-CFG"] = Tl1Privilege.Administration,
        ["ENT-USER-SECU"] = Tl1Privilege.Administration,
    };

    private readonly UpgradeStateMachine _machine;
    private readonly Tl1AgentOptions _options;
    private readonly Tl1Formatter _format;
    private readonly Tl1LoginGuard _guard;
    private readonly Tl1AlarmTable _alarms;
    private readonly ILogger _log;

    /// <summary>Creates the command set.</summary>
    /// <param name="machine">The upgrade state machine (and through it SVM).</param>
    /// <param name="options">Agent options.</param>
    /// <param name="alarms">The active alarms.</param>
    public Tl1CommandSet(UpgradeStateMachine machine, Tl1AgentOptions options, Tl1AlarmTable alarms)
    {
        _machine = machine ?? throw new ArgumentNullException(nameof(machine));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _alarms = alarms ?? throw new ArgumentNullException(nameof(alarms));
        _format = new Tl1Formatter(options.Sid, options.Time);
        _log = options.Logger ?? NullLogger.Instance;
        _guard = new Tl1LoginGuard(options.MaxLoginFailures, options.Lockout, options.Time, options.LoginStore ?? new NvsTl1LoginStore(machine.Svm), _log);
    }

    /// <summary>The failed log-in counts and lockouts.</summary>
    public Tl1LoginGuard Logins => _guard;

    /// <summary>The output formatter (shared with the agent's autonomous messages).</summary>
    public Tl1Formatter Format => _format;

    /// <summary>Parses and executes one input message.</summary>
    /// <param name="session">The session.</param>
    /// <param name="text">The message without its <c>;</c>.</param>
    /// <param name="cancellationToken">Cancels long commands.</param>
    /// <returns>The response.</returns>
    public string Execute(ITl1Session session, string text, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(text);
        string ctag = Tl1Parser.TryReadCtag(text);
        string code = "?";
        try
        {
            var cmd = Tl1Parser.Parse(text);
            ctag = cmd.Ctag;
            code = cmd.Code;
            if (cmd.Tid.Length > 0 && cmd.Tid != _options.Sid)
            {
                throw new Tl1Exception(Tl1Errors.InvalidTid, $"this node is {_options.Sid}");
            }

            var lines = Dispatch(session, cmd, cancellationToken);
            _log.LogInformation(ManagementEvents.CommandExecuted, "TL1 {Code} by {User} COMPLD", code, session.User ?? "-");
            return _format.Completed(ctag, lines);
        }
        catch (Tl1Exception ex)
        {
            _log.LogInformation(ManagementEvents.CommandDenied, "TL1 {Code} by {User} DENY {Error}: {Reason}", code, session.User ?? "-", ex.Code, ex.Message);
            return _format.Denied(ctag, ex.Code, ex.Message);
        }
        catch (UpgradeRefusedException ex)
        {
            var err = ex.Reason == UpgradeRefusal.InstallInProgress ? Tl1Errors.InstallInProgress : Tl1Errors.InvalidState;
            return _format.Denied(ctag, err, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or KeyNotFoundException or OperationCanceledException)
        {
            _log.LogWarning(ManagementEvents.CommandDenied, "TL1 {Code} failed: {Error}", code, ex.Message);
            return _format.Denied(ctag, Tl1Errors.Failed, ex.Message);
        }
    }

    private IEnumerable<string> Dispatch(ITl1Session session, Tl1Command cmd, CancellationToken ct)
    {
        switch (cmd.Code)
        {
            case "ACT-USER":
                return LogIn(session, cmd);
            case "CANC-USER":
                RequireLogin(session);
                session.LogOut();
                return [];
            default:
                break;
        }

        if (!Privileges.TryGetValue(cmd.Code, out var needed))
        {
            throw new Tl1Exception(Tl1Errors.UnknownCommand, $"{cmd.Code} is not a command of this agent");
        }

        RequireLogin(session);
        if (session.Privilege < needed)
        {
            throw new Tl1Exception(Tl1Errors.Privilege, $"{cmd.Code} needs privilege {needed}");
        }

        var svm = _machine.Svm;
        switch (cmd.Code)
        {
            case "RTRV-HDR":
                return [];
            case "RTRV-SW":
            {
                var t = svm.ReadTable();
                return [$"CURRENT:RELEASE={t.CurrentRelease()},STATE={t.CurrentState}", $"ALTERNATE:RELEASE={Release(t, t.Alternate)},STATE={t.AlternateState},BOOT={(t.AlternateBoot ? "Y" : "N")}"];
            }

            case "RTRV-UPG":
                return [Describe(_machine.Status)];
            case "RTRV-CONTEXT":
            {
                var t = svm.ReadTable();
                return new[] { ContextArea.Area0, ContextArea.Area1 }.Select(a =>
                    $"{a.ToString().ToUpperInvariant()}:ROLE={(a == t.Current ? "CURRENT" : "ALTERNATE")},STATE={t.StateOf(a).ToString().ToUpperInvariant()},LABEL=\"{(a == ContextArea.Area0 ? t.Label0 : t.Label1)}\",SEQ={t.Sequence}").ToList();
            }

            case "RTRV-NVS":
                return svm.Devices.Select(m => $"NVS-{svm.NameOf(m).ToUpperInvariant()}:ROLE={m.Role},STATUS={(m.IsFailed ? "FAILED" : "INSERVICE")}" +
                    (m.FailureReason is { } r ? $",REASON=\"{r}\"" : "")).ToList();
            case "RTRV-EQPT":
                return Modules().Select(m => $"{Aid(m.Address)}:HEALTH={m.ReportHealth()}," +
                    $"DEVICES=\"{string.Join(" ", m.ProgrammableDevices().Select(d => $"{d.Name}={d.Image}/{d.ImageVersion}"))}\"").ToList();
            case "RTRV-ALM-ALL":
                return _alarms.Active.Select(a => $"{a.Aid}:{a.Severity},{a.Condition},\"{a.Description}\"").ToList();
            case "RTRV-CFG":
            {
                var name = Name(cmd);
                var cfg = svm.ReadConfiguration(name) ?? throw new Tl1Exception(Tl1Errors.InvalidData, $"no configuration {name}");
                return [$"NAME={name},REV={cfg.Revision.ToString(CultureInfo.InvariantCulture)},DATA={Convert.ToBase64String(cfg.ToBytes())}"];
            }

            case "ED-CFG":
                return EditConfiguration(cmd);
            case "RST-CFG":
                return RestoreConfiguration(cmd);
            case "ENT-USER-SECU":
                return EnterUser(cmd);
            case "COPY-RFILE":
                return CopyRfile(cmd);
            case "APPLY":
                return Apply(session, cmd, ct);
            case "INIT-SYS":
                return InitSys(session, cmd, ct);
            default:
                throw new Tl1Exception(Tl1Errors.UnknownCommand, $"{cmd.Code} is not implemented");
        }
    }

    private List<string> LogIn(ITl1Session session, Tl1Command cmd)
    {
        var user = cmd.Aid;
        var password = (cmd.Positional.Count > 0 ? cmd.Positional[0] : null) ?? cmd.Get("PID") ?? "";
        if (user.Length == 0)
        {
            throw new Tl1Exception(Tl1Errors.BadLogin, "ACT-USER needs the user id as AID");
        }

        if (_guard.IsLocked(user))
        {
            throw new Tl1Exception(Tl1Errors.LockedOut, $"user {user} is locked out after repeated failures");
        }

        var node = _machine.Svm.ReadConfiguration(ConfigurationFile.NodeName);
        var privilege = Tl1Accounts.Verify(node, user, password);
        if (privilege is null)
        {
            _log.LogWarning(ManagementEvents.LoginFailed, "TL1 log-in of {User} failed", user);
            if (_guard.Fail(user, isAccount: Tl1Accounts.Exists(node, user)))
            {
                _log.LogWarning(ManagementEvents.UserLockedOut, "TL1 user {User} locked out for {Lockout}", user, _options.Lockout);
                throw new Tl1Exception(Tl1Errors.LockedOut, $"user {user} is now locked out");
            }

            throw new Tl1Exception(Tl1Errors.BadLogin, "unknown user or wrong password");
        }

        _guard.Succeed(user);
        session.LogIn(user, privilege.Value);
        return [$"USER={user},PRIV={(int)privilege.Value}"];
    }

    private static void RequireLogin(ITl1Session session)
    {
        if (session.User is null)
        {
            throw new Tl1Exception(Tl1Errors.NotLoggedIn, "log in with ACT-USER first");
        }
    }

    private List<string> CopyRfile(Tl1Command cmd)
    {
        var type = cmd.Get("TYPE") ?? throw new Tl1Exception(Tl1Errors.InvalidParameter, "TYPE is missing");
        if (!type.Equals("SWDL", StringComparison.OrdinalIgnoreCase))
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, "only TYPE=SWDL (software download) is supported");
        }

        var src = cmd.Get("SRC") ?? throw new Tl1Exception(Tl1Errors.InvalidParameter, "SRC is missing");
        var mode = (cmd.Get("MODE") ?? "AUTO").ToUpperInvariant() switch
        {
            "AUTO" => UpgradeMode.Auto,
            "FULL" => UpgradeMode.Full,
            "PARTIAL" => UpgradeMode.Partial,
            _ => throw new Tl1Exception(Tl1Errors.InvalidData, "MODE must be AUTO, FULL or PARTIAL"),
        };
        _ = _machine.StartDownload(TransferUri.Parse(src), mode);
        return [$"FROMURI=\"{src}\",FXFRSTATUS=START"];
    }

    private List<string> Apply(ITl1Session session, Tl1Command cmd, CancellationToken ct)
    {
        var act = (cmd.Get("ACTTYPE") ?? throw new Tl1Exception(Tl1Errors.InvalidParameter, "ACTTYPE is missing")).ToUpperInvariant();
        switch (act)
        {
            case "ACT":
            {
                if (UpgradeTransitions.Check(_machine.Status.State, UpgradeRequest.Activate) is null)
                {
                    session.Send(Tl1Formatter.InProgress(cmd.Ctag));
                }

                var report = _machine.Activate(ct);
                return report.Trial == TrialOutcome.Committed
                    ? [$"RELEASE={report.Release},TRIAL=PASSED"]
                    : throw new Tl1Exception(Tl1Errors.Failed, $"the trial failed; release {report.Release} runs (rolled back)");
            }

            case "ACPT":
                _machine.Accept();
                return [$"RELEASE={_machine.Status.Target},STATE=COMMITTED"];
            case "RVRT":
            {
                if (UpgradeTransitions.Check(_machine.Status.State, UpgradeRequest.Revert) is null)
                {
                    session.Send(Tl1Formatter.InProgress(cmd.Ctag));
                }

                var report = _machine.Revert(ct);
                return [$"RELEASE={report.Release},STATE=ROLLEDBACK"];
            }

            case "CANC":
                _machine.Cancel();
                return ["STATE=CANCELLED"];
            default:
                throw new Tl1Exception(Tl1Errors.InvalidData, "ACTTYPE must be ACT, ACPT, RVRT or CANC");
        }
    }

    private List<string> InitSys(ITl1Session session, Tl1Command cmd, CancellationToken ct)
    {
        if (cmd.Aid is "" or "SYS" or "ALL")
        {
            session.Send(Tl1Formatter.InProgress(cmd.Ctag));
            var report = _machine.RunExclusive(() => _machine.Svm.Initialize(ct));
            return [$"RELEASE={report.Release},INITIALISED={report.InitialisedModules.Count},FAILED={report.FailedModules.Count}"];
        }

        var module = Modules().FirstOrDefault(m => Aid(m.Address) == cmd.Aid) ?? throw new Tl1Exception(Tl1Errors.InvalidAid, $"no module {cmd.Aid}");
        session.Send(Tl1Formatter.InProgress(cmd.Ctag));
        var health = _machine.RunExclusive(() => ModuleInitializer.Initialize(_machine.Svm, _options.Bus!, module.Address, _options.ModuleHealthTimeout, ct));
        return health == ModuleHealth.Healthy ? [$"{cmd.Aid}:HEALTH={health}"] : throw new Tl1Exception(Tl1Errors.Failed, $"{cmd.Aid} is {health} after its init");
    }

    private List<string> EditConfiguration(Tl1Command cmd)
    {
        var name = Name(cmd);
        var key = cmd.Get("KEY") ?? throw new Tl1Exception(Tl1Errors.InvalidParameter, "KEY is missing");
        var value = cmd.Get("VALUE") ?? throw new Tl1Exception(Tl1Errors.InvalidParameter, "VALUE is missing");
        if (key.StartsWith(Tl1Accounts.SettingPrefix, StringComparison.OrdinalIgnoreCase))
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, "accounts are changed with ENT-USER-SECU");
        }

        var svm = _machine.Svm;
        var next = _machine.RunExclusive(() =>
        {
            var cfg = (svm.ReadConfiguration(name) ?? new ConfigurationFile(name, 0, new Dictionary<string, string>())).With(key, value);
            svm.ChangeConfiguration(cfg);
            return cfg;
        });
        return [$"NAME={name},REV={next.Revision.ToString(CultureInfo.InvariantCulture)}"];
    }

    private List<string> RestoreConfiguration(Tl1Command cmd)
    {
        var name = Name(cmd);
        ConfigurationFile cfg;
        try
        {
            cfg = ConfigurationFile.Parse(Convert.FromBase64String(cmd.Get("DATA") ?? throw new Tl1Exception(Tl1Errors.InvalidParameter, "DATA is missing")));
        }
        catch (Exception ex) when (ex is FormatException or SvmFormatException or ArgumentException)
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, $"DATA is not a configuration backup: {ex.Message}");
        }

        if (cfg.Name != name)
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, $"the backup is of configuration {cfg.Name}, not {name}");
        }

        _machine.RunExclusive(() =>
        {
            _machine.Svm.ChangeConfiguration(cfg);
            return 0;
        });
        return [$"NAME={name},REV={cfg.Revision.ToString(CultureInfo.InvariantCulture)}"];
    }

    private List<string> EnterUser(Tl1Command cmd)
    {
        var user = cmd.Aid;
        var password = cmd.Get("PID") ?? (cmd.Positional.Count > 0 ? cmd.Positional[0] : null) ?? throw new Tl1Exception(Tl1Errors.InvalidParameter, "PID is missing");
        if (user.Length == 0 || password.Length < 8)
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, "a user id (AID) and a password of at least 8 characters are needed");
        }

        if (!int.TryParse(cmd.Get("PRIV") ?? "1", NumberStyles.None, CultureInfo.InvariantCulture, out int level) || level is < 1 or > 3)
        {
            throw new Tl1Exception(Tl1Errors.InvalidData, "PRIV must be 1, 2 or 3");
        }

        var svm = _machine.Svm;
        _machine.RunExclusive(() =>
        {
            var node = svm.ReadConfiguration(ConfigurationFile.NodeName) ?? throw new Tl1Exception(Tl1Errors.Failed, "the node has no configuration");
            svm.ChangeConfiguration(node.With(Tl1Accounts.SettingPrefix + user, Tl1Accounts.Hash(password, (Tl1Privilege)level)));
            return 0;
        });
        return [$"USER={user},PRIV={level}"];
    }

    private IReadOnlyList<IProcessorModule> Modules() => _options.Bus?.Modules ?? [];

    private static string Name(Tl1Command cmd)
    {
        var name = cmd.Get("NAME") ?? ConfigurationFile.NodeName;
        return SgcFile.IsValidName(name) ? name : throw new Tl1Exception(Tl1Errors.InvalidData, $"'{name}' is not a configuration name");
    }

    /// <summary>The TL1 AID of a module: its type and slot, e.g. <c>TRAFFIC-1</c>.</summary>
    /// <param name="m">The module.</param>
    /// <returns>The AID.</returns>
    public static string Aid(ModuleAddress m) => string.Create(CultureInfo.InvariantCulture, $"{m.ModuleType.ToUpperInvariant()}-{m.Slot}");

    /// <summary>The text of an upgrade status in responses and REPT EVT UPG.</summary>
    /// <param name="s">The status.</param>
    /// <returns>The text.</returns>
    public static string Describe(UpgradeStatus s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return string.Create(CultureInfo.InvariantCulture, $"STATE={s.State.ToString().ToUpperInvariant()},OUTCOME={s.Outcome.ToString().ToUpperInvariant()},TARGET={s.Target},PREVIOUS={s.Previous},SRC=\"{s.Source}\",SEQ={s.Sequence}") +
            (s.Message.Length > 0 ? $",MSG=\"{s.Message}\"" : "");
    }

    private static string Release(ContextTable t, ContextArea a)
    {
        try
        {
            return t.StateOf(a) == ContextState.Valid ? (a == t.Current ? t.CurrentRelease() : t.AlternateRelease()).ToString() : "NONE";
        }
        catch (FormatException)
        {
            return "NONE";
        }
    }
}

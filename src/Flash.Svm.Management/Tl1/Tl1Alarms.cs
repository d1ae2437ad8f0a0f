namespace Flash.Svm.Management.Tl1;

/// <summary>An active alarm.</summary>
/// <param name="Aid">The equipment it is raised on (e.g. <c>NVS-NVS0</c>, <c>TRAFFIC-1</c>).</param>
/// <param name="Condition">Condition type (e.g. <c>DEVFAIL</c>, <c>INITFAIL</c>).</param>
/// <param name="Severity">Severity.</param>
/// <param name="Description">Text.</param>
/// <param name="Raised">When.</param>
public sealed record Tl1Alarm(string Aid, string Condition, Tl1AlarmCode Severity, string Description, DateTimeOffset Raised);

/// <summary>The active alarms of the node (raised and cleared from SVM events).</summary>
public sealed class Tl1AlarmTable
{
    private readonly Dictionary<(string, string), Tl1Alarm> _active = [];
    private readonly Lock _gate = new();

    /// <summary>Active alarms, by AID.</summary>
    public IReadOnlyList<Tl1Alarm> Active
    {
        get
        {
            lock (_gate)
            {
                return _active.Values.OrderBy(a => a.Aid, StringComparer.Ordinal).ThenBy(a => a.Condition, StringComparer.Ordinal).ToList();
            }
        }
    }

    /// <summary>Raises an alarm.</summary>
    /// <param name="alarm">The alarm.</param>
    /// <returns>True when it was not active yet.</returns>
    public bool Raise(Tl1Alarm alarm)
    {
        ArgumentNullException.ThrowIfNull(alarm);
        lock (_gate)
        {
            return _active.TryAdd((alarm.Aid, alarm.Condition), alarm);
        }
    }

    /// <summary>Clears an alarm.</summary>
    /// <param name="aid">Its AID.</param>
    /// <param name="condition">Its condition.</param>
    /// <returns>The cleared alarm, or null when it was not active.</returns>
    public Tl1Alarm? Clear(string aid, string condition)
    {
        lock (_gate)
        {
            return _active.Remove((aid, condition), out var a) ? a : null;
        }
    }
}

using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Management.Tl1;

/// <summary>
/// Counts failed log-ins per user and locks a user out for a while after too many in a row. The table is kept in an
/// <see cref="ITl1LoginStore"/> (NVS on a node), written before the refusal is answered, so neither a restart nor a
/// power cut gives an attacker fresh attempts.
/// </summary>
public sealed class Tl1LoginGuard
{
    private readonly Dictionary<string, Tl1LoginEntry> _users = new(StringComparer.Ordinal);
    // UIDs that are no account: counted (the answers must not tell them apart) but never stored, so probes with
    // invented names neither wear the flash nor push real accounts' counts out of the bounded table.
    private readonly HashSet<string> _unstored = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private readonly int _maxFailures;
    private readonly TimeSpan _lockout;
    private readonly TimeProvider _time;
    private readonly ITl1LoginStore _store;
    private readonly ILogger _log;
    private TimeSpan _typicalStore;

    /// <summary>A guard whose table lives in memory only (a restart clears it).</summary>
    /// <param name="maxFailures">Failures in a row that lock the user.</param>
    /// <param name="lockout">How long the lock lasts.</param>
    /// <param name="time">The clock.</param>
    public Tl1LoginGuard(int maxFailures, TimeSpan lockout, TimeProvider time)
        : this(maxFailures, lockout, time, new MemoryTl1LoginStore())
    {
    }

    /// <summary>A guard that continues the table held by <paramref name="store"/>.</summary>
    /// <param name="maxFailures">Failures in a row that lock the user.</param>
    /// <param name="lockout">How long the lock lasts.</param>
    /// <param name="time">The clock (lockout ends are absolute times, so they expire across restarts).</param>
    /// <param name="store">Where the table is kept.</param>
    /// <param name="logger">Logger.</param>
    public Tl1LoginGuard(int maxFailures, TimeSpan lockout, TimeProvider time, ITl1LoginStore store, ILogger? logger = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFailures, 1);
        _maxFailures = maxFailures;
        _lockout = lockout;
        _time = time ?? throw new ArgumentNullException(nameof(time));
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _log = logger ?? NullLogger.Instance;
        try
        {
            foreach (var e in store.Read())
            {
                _users[e.User] = e;
            }
        }
        catch (SvmFormatException ex)
        {
            // A corrupt record cannot be trusted either way; it is replaced by the next stored failure.
            _log.LogWarning(ManagementEvents.LoginRecordCorrupt, "TL1 log-in record ignored: {Error}", ex.Message);
        }
    }

    /// <summary>True when the user is locked out now.</summary>
    /// <param name="user">The user.</param>
    /// <returns>Whether locked.</returns>
    public bool IsLocked(string user)
    {
        lock (_gate)
        {
            return _users.TryGetValue(user, out var s) && s.LockedUntil > _time.GetUtcNow();
        }
    }

    /// <summary>The table as it is now: the stored accounts' entries and, in memory only, those of UIDs that are no account.</summary>
    public IReadOnlyList<Tl1LoginEntry> Entries
    {
        get
        {
            lock (_gate)
            {
                return [.. _users.Values];
            }
        }
    }

    /// <summary>Records a failed log-in of an account and stores the table.</summary>
    /// <param name="user">The user.</param>
    /// <returns>True when this failure locked the user.</returns>
    /// <exception cref="IOException">The table could not be stored (the failure still counts until a restart).</exception>
    public bool Fail(string user) => Fail(user, isAccount: true);

    /// <summary>Records a failed log-in; only failures of existing accounts are stored.</summary>
    /// <param name="user">The user.</param>
    /// <param name="isAccount">False when the UID is no account: counted and locked alike and delayed as long as a stored failure takes (the answer must not differ), kept in memory only and forgotten first.</param>
    /// <returns>True when this failure locked the user.</returns>
    /// <exception cref="IOException">The table could not be stored (the failure still counts until a restart).</exception>
    public bool Fail(string user, bool isAccount)
    {
        ArgumentNullException.ThrowIfNull(user);
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var next = AfterFailure(_users.TryGetValue(user, out var e) ? e : null, user, now, _maxFailures, _lockout);
            _users[user] = next;
            if (isAccount)
            {
                _unstored.Remove(user);
            }
            else
            {
                _unstored.Add(user);
            }

            Trim(user, now);
            if (isAccount)
            {
                long started = Stopwatch.GetTimestamp();
                Store();
                // Moving average of the write, so a failure of a UID that is no account takes as long (below).
                _typicalStore = (_typicalStore * 3 + Stopwatch.GetElapsedTime(started)) / 4;
            }
            else
            {
                // No write, but the same delay: the answer's timing must not tell accounts from invented names.
                Thread.Sleep(_typicalStore);
            }

            return next.LockedUntil > now;
        }
    }

    /// <summary>Records a successful log-in (clears the user's count; stores the table when it had one).</summary>
    /// <param name="user">The user.</param>
    public void Succeed(string user)
    {
        lock (_gate)
        {
            if (_users.Remove(user) && !_unstored.Remove(user))
            {
                Store();
            }
        }
    }

    /// <summary>
    /// The policy of one failure (pure): the count goes up; reaching <paramref name="maxFailures"/> locks the user
    /// until <paramref name="now"/> + <paramref name="lockout"/> and restarts the count; the first failure after a
    /// lock expired counts as the first of a new series.
    /// </summary>
    /// <param name="current">The user's entry, if any.</param>
    /// <param name="user">The user.</param>
    /// <param name="now">The time of the failure.</param>
    /// <param name="maxFailures">Failures in a row that lock.</param>
    /// <param name="lockout">How long a lock lasts.</param>
    /// <returns>The user's new entry.</returns>
    public static Tl1LoginEntry AfterFailure(Tl1LoginEntry? current, string user, DateTimeOffset now, int maxFailures, TimeSpan lockout)
    {
        var (failures, until) = current is { } c ? (c.Failures, c.LockedUntil) : (0, DateTimeOffset.UnixEpoch);
        failures = until != DateTimeOffset.UnixEpoch && until <= now ? 1 : failures + 1;
        bool locks = failures >= maxFailures;
        return new Tl1LoginEntry(user, locks ? 0 : failures, locks ? now + lockout : DateTimeOffset.UnixEpoch, now);
    }

    /// <summary>
    /// Keeps the table within the record's limit, never forgetting <paramref name="current"/> (the UID that just
    /// failed: its answers must go on as an account's would): UIDs that are no account first, then accounts not locked
    /// now, oldest failure first.
    /// </summary>
    private void Trim(string current, DateTimeOffset now)
    {
        while (_users.Count > Tl1LoginRecord.MaxEntries)
        {
            var drop = _users.Values.Where(e => e.User != current)
                .OrderBy(e => _unstored.Contains(e.User) ? 0 : 1)
                .ThenBy(e => !_unstored.Contains(e.User) && e.LockedUntil > now ? 1 : 0)
                .ThenBy(e => e.LastFailure)
                .First();
            _users.Remove(drop.User);
            _unstored.Remove(drop.User);
        }
    }

    private void Store()
    {
        try
        {
            _store.Write([.. _users.Values.Where(e => !_unstored.Contains(e.User))]);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            _log.LogError(ManagementEvents.LoginRecordStoreFailed, "TL1 log-in record could not be stored: {Error}", ex.Message);
            throw new IOException("The TL1 log-in record could not be stored.", ex);
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Flash.Svm.Management.Upgrades;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Management.Tl1;

/// <summary>
/// The TL1 agent: raw TL1 over TCP (GR-831), one session per connection, commands executed by
/// <see cref="Tl1CommandSet"/>, autonomous messages (<see cref="Tl1Autonomous"/>) sent to every logged-in session.
/// </summary>
public sealed class Tl1Agent : IAsyncDisposable
{
    private readonly Tl1AgentOptions _options;
    private readonly Tl1CommandSet _commands;
    private readonly Tl1Autonomous _autonomous;
    private readonly ILogger _log;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Session> _sessions = [];
    private Task _accept = Task.CompletedTask;

    /// <summary>Creates the agent over a node's upgrade state machine.</summary>
    /// <param name="machine">The machine (and through it SVM).</param>
    /// <param name="options">Options.</param>
    public Tl1Agent(UpgradeStateMachine machine, Tl1AgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(machine);
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _log = options.Logger ?? NullLogger.Instance;
        Alarms = new Tl1AlarmTable();
        _commands = new Tl1CommandSet(machine, options, Alarms);
        _autonomous = new Tl1Autonomous(machine, _commands.Format, Alarms, options.Time, Broadcast);
        _listener = new TcpListener(options.Endpoint);
    }

    /// <summary>The active alarms.</summary>
    public Tl1AlarmTable Alarms { get; }

    /// <summary>The bound endpoint (after <see cref="Start"/>).</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>Sessions connected now.</summary>
    public int SessionCount
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>Starts listening.</summary>
    public void Start()
    {
        _listener.Start();
        _autonomous.Attach();
        _log.LogInformation(ManagementEvents.AgentStarted, "TL1 agent {Sid} on {Endpoint}", _options.Sid, LocalEndPoint);
        _accept = AcceptAsync(_stop.Token);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _autonomous.Detach();
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Stop();
        await _accept.ConfigureAwait(false);
        Session[] open;
        lock (_gate)
        {
            open = [.. _sessions];
        }

        foreach (var s in open)
        {
            s.Close();
        }

        await Task.WhenAll(open.Select(s => s.Completion)).ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                break;
            }

            var session = new Session(this, client);
            bool admitted;
            lock (_gate)
            {
                admitted = _sessions.Count < _options.MaxSessions && _sessions.Add(session);
            }

            session.Run(admitted, ct);
        }
    }

    private void Broadcast(string message)
    {
        lock (_gate)
        {
            foreach (var s in _sessions.Where(s => s.User is not null))
            {
                s.Send(message);
            }
        }
    }

    /// <summary>One TCP connection: reads input messages up to <c>;</c>, executes them in order, writes through a queue.</summary>
    private sealed class Session(Tl1Agent agent, TcpClient client) : ITl1Session, IDisposable
    {
        private readonly Channel<string> _out = Channel.CreateBounded<string>(new BoundedChannelOptions(agent._options.OutputQueue) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        private readonly CancellationTokenSource _closed = new();
        private volatile string? _user;

        public string? User => _user;

        public Tl1Privilege Privilege { get; private set; }

        public Task Completion { get; private set; } = Task.CompletedTask;

        public void LogIn(string user, Tl1Privilege privilege)
        {
            Privilege = privilege;
            _user = user;
            agent._log.LogInformation(ManagementEvents.SessionOpened, "TL1 session of {User} from {Remote}", user, client.Client.RemoteEndPoint);
        }

        public void LogOut()
        {
            agent._log.LogInformation(ManagementEvents.SessionClosed, "TL1 session of {User} closed", _user);
            _user = null;
            Privilege = 0;
        }

        public void Send(string message) => _out.Writer.TryWrite(message);

        public void Close()
        {
            try
            {
                _closed.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The session already ended.
            }
        }

        public void Dispose() => _closed.Dispose();

        public void Run(bool admitted, CancellationToken stop)
        {
            var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, _closed.Token);
            Completion = Task.Run(async () =>
            {
                try
                {
                    using (client)
                    using (linked)
                    {
                        var stream = client.GetStream();
                        var writer = WriteAsync(stream, linked.Token);
                        if (admitted)
                        {
                            await ReadAsync(stream, linked.Token).ConfigureAwait(false);
                        }
                        else
                        {
                            Send(agent._commands.Format.Denied("0", Tl1Errors.Failed, $"no more than {agent._options.MaxSessions} sessions at once"));
                        }

                        _out.Writer.TryComplete();
                        await writer.ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    agent._log.LogDebug(ManagementEvents.ConnectionFailed, "TL1 connection ended: {Error}", ex.Message);
                }
                finally
                {
                    lock (agent._gate)
                    {
                        agent._sessions.Remove(this);
                    }

                    Dispose();
                }
            }, CancellationToken.None);
        }

        private async Task ReadAsync(NetworkStream stream, CancellationToken ct)
        {
            var buffer = new byte[4096];
            var message = new StringBuilder();
            bool discarding = false;
            while (true)
            {
                int n = await stream.ReadAsync(buffer, ct).ConfigureAwait(false);
                if (n == 0)
                {
                    return;
                }

                for (int i = 0; i < n; i++)
                {
                    char c = (char)buffer[i];
                    if (c != ';')
                    {
                        if (!discarding)
                        {
                            if (message.Length >= Tl1Parser.MaxMessageLength)
                            {
                                // Oversize input: refused once, the rest up to the next ';' is read and dropped.
                                Send(agent._commands.Format.Denied(Tl1Parser.TryReadCtag(message.ToString()), Tl1Errors.InvalidSyntax, $"input longer than {Tl1Parser.MaxMessageLength} characters"));
                                message.Clear();
                                discarding = true;
                            }
                            else if (message.Length > 0 || !char.IsWhiteSpace(c))
                            {
                                message.Append(c);
                            }
                        }

                        continue;
                    }

                    if (discarding)
                    {
                        discarding = false;
                        continue;
                    }

                    var text = message.ToString();
                    message.Clear();
                    Send(agent._commands.Execute(this, text, ct));
                    if (_user is null && text.TrimStart().StartsWith("CANC-USER", StringComparison.OrdinalIgnoreCase))
                    {
                        // Logged out: the connection ends once the response is written.
                        return;
                    }
                }
            }
        }

        private async Task WriteAsync(NetworkStream stream, CancellationToken ct)
        {
            await foreach (var m in _out.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var bytes = Encoding.ASCII.GetBytes(m);
                await stream.WriteAsync(bytes, ct).ConfigureAwait(false);
            }
        }
    }
}

using System.Net;
using System.Net.Sockets;
using Flash.Svm.Network.Components;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flash.Svm.Network.Ftp;

/// <summary>
/// A read-only FTP server (RFC 959, RFC 2428 EPSV, RFC 3659 SIZE/MDTM/REST) over the component store: a flat view
/// of the served context's components for modules and operators, passive mode only, per-module, operator or
/// anonymous accounts. Files are streamed from flash and checked against the SGC digest as they are sent.
/// </summary>
public sealed class FtpServer : IAsyncDisposable
{
    private readonly FtpServerOptions _options;
    private readonly IComponentStore _store;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly HashSet<Task> _sessions = [];
    private readonly Lock _lock = new();
    private readonly Dictionary<Sgc.SoftwareVersion, DateTimeOffset> _firstSeen = [];
    private TcpListener? _listener;
    private Task? _loop;

    /// <summary>Creates the server.</summary>
    /// <param name="store">What is served.</param>
    /// <param name="options">Settings.</param>
    public FtpServer(IComponentStore store, FtpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options;
        _log = options.Logger ?? NullLogger.Instance;
    }

    /// <summary>The bound control endpoint.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)(_listener?.LocalEndpoint ?? throw new InvalidOperationException("The server is not started."));

    /// <summary>Files sent completely since start.</summary>
    public int FilesSent => _filesSent;

    internal FtpServerOptions Options => _options;

    internal IComponentStore Store => _store;

    internal ILogger Log => _log;

    private int _filesSent;

    /// <summary>Starts listening.</summary>
    public void Start()
    {
        var l = new TcpListener(_options.Endpoint);
        l.Start();
        _listener = l;
        _log.LogInformation(NetworkEvents.ServerStarted, "FTP server listening on {Endpoint}", LocalEndPoint);
        _loop = Task.Run(() => AcceptLoopAsync(l, _stop.Token));
    }

    /// <summary>Stops the server and closes every session.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        Task[] open;
        lock (_lock)
        {
            open = [.. _sessions];
        }

        await Task.WhenAll(open).ConfigureAwait(false);
        _stop.Dispose();
    }

    internal void CountSent() => Interlocked.Increment(ref _filesSent);

    /// <summary>The modification time shown for the files of a release: when this server first served it.</summary>
    internal DateTimeOffset TimeOf(Sgc.SoftwareVersion release)
    {
        lock (_lock)
        {
            if (!_firstSeen.TryGetValue(release, out var t))
            {
                t = DateTimeOffset.UtcNow;
                t = t.AddTicks(-(t.Ticks % TimeSpan.TicksPerSecond));
                _firstSeen[release] = t;
            }

            return t;
        }
    }

    private async Task AcceptLoopAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            Task t;
            lock (_lock)
            {
                bool full = _sessions.Count >= _options.MaxSessions;
                var session = new FtpSession(this, client, full);
                t = Task.Run(() => session.RunAsync(stop), CancellationToken.None);
                _sessions.Add(t);
            }

            _ = t.ContinueWith(done =>
            {
                lock (_lock)
                {
                    _sessions.Remove(done);
                }
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }
}
